-- Select every version of the response ids in affected_ids that are staged more than once, in one scan of the staged files.
SELECT response_id, source_file, source_row, file_order, score, response_date
FROM read_parquet($files, union_by_name = true)
WHERE response_id IN (SELECT response_id FROM affected_ids)
QUALIFY count(*) OVER (PARTITION BY response_id) > 1
