-- Count, per source file, the staged rows kept as their response_id's version (the rest of its staged rows are duplicates).
SELECT kept_source_file AS source_file, count(*)::BIGINT AS rows_valid
FROM read_parquet($kept_versions)
GROUP BY kept_source_file
