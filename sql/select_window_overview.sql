-- Select the overall NPS of each kind of window at its last end on or before $last_end, with its change test, for a summary.
SELECT
    window_type, window_start, window_end, responses, round(nps, 1) AS nps,
    round(nps_ci_low, 1) AS ci_low, round(nps_ci_high, 1) AS ci_high, low_sample,
    round(nps_change, 1) AS change, round(change_p_value, 3) AS p_value, significant_change
FROM read_parquet($files, union_by_name = true)
WHERE dimension = 'overall' AND window_end <= $last_end
QUALIFY row_number() OVER (PARTITION BY window_type ORDER BY window_end DESC) = 1
ORDER BY nps_window_order(window_type)
