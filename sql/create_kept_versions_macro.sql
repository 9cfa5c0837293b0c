-- Define kept_versions(files, window_files, first_day, last_day): for each response_id staged in the window, the version kept (latest file, then path, then row) across all staged files.
CREATE OR REPLACE MACRO kept_versions(files, window_files, first_day, last_day) AS TABLE
WITH window_ids AS (
    SELECT DISTINCT response_id
    FROM read_parquet(window_files, union_by_name = true)
    WHERE response_date BETWEEN first_day AND last_day
),
versions AS (
    SELECT
        response_id,
        source_file,
        source_row,
        score,
        response_date,
        {'file_order': file_order, 'source_file': source_file, 'source_row': source_row} AS version_order
    FROM read_parquet(files, union_by_name = true)
    SEMI JOIN window_ids USING (response_id)
)
SELECT
    response_id,
    arg_max(source_file, version_order) AS kept_source_file,
    arg_max(source_row, version_order) AS kept_source_row,
    arg_max(score, version_order) AS kept_score,
    arg_max(response_date, version_order) AS kept_response_date
FROM versions
GROUP BY response_id;
