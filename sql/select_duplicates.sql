-- Select every ranked staged row (ranked_window) that lost to a later version of the same response_id, with the version kept.
SELECT
    response_date,
    source_file,
    source_row,
    response_id,
    score::TINYINT AS score,
    kept_source_file,
    kept_source_row,
    kept_score::TINYINT AS kept_score,
    score IS DISTINCT FROM kept_score AS score_changed
FROM ranked_window
WHERE version_rank > 1
ORDER BY response_date, source_file, source_row
