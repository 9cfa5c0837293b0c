-- Select every response staged in the given days that no other version supersedes, pseudonymised, for the responses table.
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
ANTI JOIN read_parquet($superseded) AS superseded
    ON staged.source_file = superseded.source_file AND staged.source_row = superseded.source_row
WHERE staged.response_date BETWEEN $first_day AND $last_day
