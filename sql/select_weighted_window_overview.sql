-- Select each kind of window's weighted and unweighted NPS at its last end on or before $last_end, for a summary.
SELECT
    window_type, window_start, window_end, responses, responses_outside_population AS outside_population,
    round(nps, 1) AS nps,
    round(weighted_nps, 1) AS weighted_nps, round(weighted_ci_low, 1) AS weighted_ci_low,
    round(weighted_ci_high, 1) AS weighted_ci_high, round(effective_sample_size, 1) AS n_eff,
    round(population_share_covered, 3) AS population_covered
FROM read_parquet($files, union_by_name = true)
WHERE window_end <= $last_end
QUALIFY row_number() OVER (PARTITION BY window_type ORDER BY window_end DESC) = 1
ORDER BY nps_window_order(window_type)
