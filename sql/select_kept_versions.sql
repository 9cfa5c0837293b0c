-- Select, for every staged response_id, the version kept: the latest file (modification time), then path, then row.
SELECT
    response_id,
    arg_max(source_file, version_order) AS kept_source_file,
    arg_max(source_row, version_order) AS kept_source_row,
    arg_max(score, version_order) AS kept_score,
    arg_max(response_date, version_order) AS kept_response_date,
    count(*) AS versions
FROM (
    SELECT
        response_id, source_file, source_row, score, response_date,
        {'file_order': file_order, 'source_file': source_file, 'source_row': source_row} AS version_order
    FROM read_parquet($files, union_by_name = true)
)
GROUP BY response_id
