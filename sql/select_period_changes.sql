-- Select the overall NPS of every calendar week, month and quarter with its change from the period before and the test's p-value.
SELECT window_type, window_start, window_end, complete, responses, nps, nps_ci_low, nps_ci_high, low_sample,
    previous_responses, previous_nps, nps_change, change_p_value, significant_change
FROM read_parquet($files, union_by_name = true)
WHERE dimension = 'overall' AND window_type IN ('week', 'month', 'quarter')
ORDER BY nps_window_order(window_type) DESC, window_end DESC
