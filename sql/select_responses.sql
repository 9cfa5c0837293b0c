-- Select the kept version (kept_window) of every response staged in a chunk of days, pseudonymised, for the responses table.
SELECT
    staged.response_id,
    staged.source_format,
    staged.source_file,
    staged.source_row,
    staged.submitted_at,
    staged.response_date,
    staged.score::TINYINT AS score,
    staged.category,
    staged.comment,
    staged.language,
    staged.channel,
    staged.region,
    staged.product,
    staged.touchpoint,
    staged.customer_tier,
    CASE WHEN staged.respondent_identity IS NOT NULL
        THEN sha256($pseudonym_key || staged.respondent_identity) END AS respondent_key,
    staged.attributes
FROM read_parquet($window_files, union_by_name = true) AS staged
JOIN kept_window AS kept
    ON staged.response_id = kept.response_id
    AND staged.source_file = kept.kept_source_file
    AND staged.source_row = kept.kept_source_row
WHERE staged.response_date BETWEEN $first_day AND $last_day
ORDER BY staged.response_date, staged.submitted_at, staged.response_id
