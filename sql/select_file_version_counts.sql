-- Count, per source file, its staged rows superseded by another version (duplicates); the rest of its staged rows are kept.
SELECT source_file, count(*)::BIGINT AS rows_duplicate
FROM read_parquet($superseded)
GROUP BY source_file
