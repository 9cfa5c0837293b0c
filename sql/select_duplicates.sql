-- Select the superseded versions whose own day is in the given days, with the version kept, for the duplicates table.
SELECT
    response_date,
    source_file,
    source_row,
    response_id,
    score::TINYINT AS score,
    kept_source_file,
    kept_source_row,
    kept_score::TINYINT AS kept_score,
    kept_response_date,
    score IS DISTINCT FROM kept_score AS score_changed
FROM read_parquet($superseded)
WHERE response_date BETWEEN $first_day AND $last_day
