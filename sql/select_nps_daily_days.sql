-- Select every column of the nps_daily files given, ordered by day.
SELECT * FROM read_parquet($files, union_by_name = true) ORDER BY response_date
