-- Count the rows of the Parquet file(s) given.
SELECT count(*) FROM read_parquet($files)
