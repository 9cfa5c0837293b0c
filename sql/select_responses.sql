-- Select the kept version of every ranked staged response (ranked_window), pseudonymised, for the responses table.
SELECT
    response_id,
    source_format,
    source_file,
    source_row,
    submitted_at,
    response_date,
    score::TINYINT AS score,
    category,
    comment,
    language,
    channel,
    region,
    product,
    touchpoint,
    customer_tier,
    CASE WHEN respondent_identity IS NOT NULL
        THEN sha256($pseudonym_key || respondent_identity) END AS respondent_key,
    attributes
FROM ranked_window
WHERE version_rank = 1
ORDER BY response_date, submitted_at, response_id
