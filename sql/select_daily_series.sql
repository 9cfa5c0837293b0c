-- Select the daily NPS with its bounds from the nps_daily files given, ordered by day.
SELECT response_date, responses, nps, nps_ci_low, nps_ci_high, responses < $low_sample_threshold AS low_sample
FROM read_parquet($files, union_by_name = true)
ORDER BY response_date
