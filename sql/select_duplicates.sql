-- Select every row staged in the chunk of days that lost to another version of its response_id (kept_window), with the version kept.
SELECT
    staged.response_date,
    staged.source_file,
    staged.source_row,
    staged.response_id,
    staged.score::TINYINT AS score,
    kept.kept_source_file,
    kept.kept_source_row,
    kept.kept_score::TINYINT AS kept_score,
    kept.kept_response_date,
    staged.score IS DISTINCT FROM kept.kept_score AS score_changed
FROM read_parquet($window_files, union_by_name = true) AS staged
JOIN kept_window AS kept ON staged.response_id = kept.response_id
WHERE staged.response_date BETWEEN $first_day AND $last_day
    AND NOT (staged.source_file = kept.kept_source_file AND staged.source_row = kept.kept_source_row)
ORDER BY staged.response_date, staged.source_file, staged.source_row
