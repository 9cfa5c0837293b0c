-- Create (or replace) one published view over a table's Parquet files; {table} and {files} are the warehouse's own quoted names, {union_by_name} true unless every file has the same columns.
CREATE OR REPLACE VIEW {table} AS
SELECT * FROM read_parquet({files}, union_by_name = {union_by_name}, hive_partitioning = false)
