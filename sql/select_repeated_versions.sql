-- Select every version of each response_id staged more than once, across all staged files.
WITH repeated AS (
    SELECT response_id
    FROM read_parquet($files, union_by_name = true)
    GROUP BY response_id
    HAVING count(*) > 1
)
SELECT response_id, source_file, source_row, file_order, score, response_date
FROM read_parquet($files, union_by_name = true)
SEMI JOIN repeated USING (response_id)
