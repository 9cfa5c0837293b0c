-- Select every segment's NPS for one kind of window ending on $window_end, by dimension, largest segments first.
SELECT dimension, segment, responses, nps, nps_ci_low, nps_ci_high, margin_of_error, low_sample,
    previous_nps, nps_change, change_p_value, significant_change
FROM read_parquet($files, union_by_name = true)
WHERE window_type = $window_type AND window_end = $window_end AND dimension <> 'overall'
ORDER BY dimension, responses DESC, segment
