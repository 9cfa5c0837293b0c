-- Select every staged row superseded by another version of its response_id (latest file by modification time, then path, then row, is kept), with the version kept, over all response ids.
WITH repeated AS (
    SELECT response_id
    FROM read_parquet($files, union_by_name = true)
    GROUP BY response_id
    HAVING count(*) > 1
),
versions AS (
    SELECT response_id, source_file, source_row, file_order, score, response_date
    FROM read_parquet($files, union_by_name = true)
    SEMI JOIN repeated USING (response_id)
),
ranked AS (
    SELECT
        *,
        row_number() OVER latest_first AS version_rank,
        first_value(source_file) OVER latest_first AS kept_source_file,
        first_value(source_row) OVER latest_first AS kept_source_row,
        first_value(score) OVER latest_first AS kept_score,
        first_value(response_date) OVER latest_first AS kept_response_date
    FROM versions
    WINDOW latest_first AS (
        PARTITION BY response_id
        ORDER BY file_order DESC, source_file DESC, source_row DESC
    )
)
SELECT
    response_id, source_file, source_row, score, response_date,
    kept_source_file, kept_source_row, kept_score, kept_response_date
FROM ranked
WHERE version_rank > 1
