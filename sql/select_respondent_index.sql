-- Select the compact look-back rows of responses day files: a 64-bit prefix of each respondent key (a SHA-256 hex digest), when, which response, the score and whether it was a detractor.
SELECT
    TRY_CAST('0x' || left(respondent_key, 16) AS UBIGINT) AS respondent_prefix,
    submitted_at,
    response_id,
    score,
    category = 'detractor' AS is_detractor,
    response_date
FROM read_parquet($files, union_by_name = true)
WHERE respondent_key IS NOT NULL
ORDER BY response_date, respondent_prefix
