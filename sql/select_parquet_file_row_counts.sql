-- Select the row count of each Parquet file given, from the files' metadata.
SELECT file_name, sum(num_rows)::BIGINT AS num_rows FROM parquet_file_metadata($files) GROUP BY file_name
