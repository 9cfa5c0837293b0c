-- Select the latest trailing-28-day weighted NPS beside the unweighted one, for the command line's summary.
SELECT round(nps, 1), round(weighted_nps, 1), round(weighted_ci_low, 1), round(weighted_ci_high, 1),
    round(effective_sample_size, 0), strata
FROM nps_windows_weighted
WHERE window_type = 'trailing_28d' AND weighted_nps IS NOT NULL
ORDER BY window_end DESC
LIMIT 1
