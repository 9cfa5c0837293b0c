-- Select every row of the Parquet files given (to merge them into one file).
SELECT * FROM read_parquet($files, union_by_name = true)
