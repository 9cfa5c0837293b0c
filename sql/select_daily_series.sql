-- Select the daily NPS with its bounds and low-sample flag from the nps_daily files given, ordered by day.
SELECT response_date, responses, nps, nps_ci_low, nps_ci_high, low_sample
FROM read_parquet($files, union_by_name = true)
ORDER BY response_date
