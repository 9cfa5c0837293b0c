-- Select one kind of window's NPS over time for one dimension and segment, ordered by the day the windows end.
SELECT window_end, responses, nps, nps_ci_low, nps_ci_high, low_sample
FROM read_parquet($files, union_by_name = true)
WHERE window_type = $window_type AND dimension = $dimension AND segment = $segment
ORDER BY window_end
