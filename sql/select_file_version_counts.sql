-- Count, per source file, the staged rows kept as their response_id's version and those superseded as duplicates.
SELECT
    source_file,
    count(*) FILTER (WHERE version_rank = 1)::BIGINT AS rows_valid,
    count(*) FILTER (WHERE version_rank > 1)::BIGINT AS rows_duplicate
FROM ranked_staged($files)
GROUP BY source_file
