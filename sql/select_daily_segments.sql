-- Select every segment's NPS on one day from nps_daily_segment files, by dimension, largest segments first.
SELECT dimension, segment, responses, nps, nps_ci_low, nps_ci_high, low_sample
FROM read_parquet($files, union_by_name = true)
WHERE response_date = $day
ORDER BY dimension, responses DESC, segment
