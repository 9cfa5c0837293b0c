-- Create (or replace) one published view over a table's Parquet files; {table} and {files} are the warehouse's own quoted names.
CREATE OR REPLACE VIEW {table} AS
SELECT * FROM read_parquet({files}, union_by_name = true, hive_partitioning = false)
