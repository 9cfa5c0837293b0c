-- Select one follow-up row per kept detractor response, with priority from score and tier and an SLA due time.
WITH detractors AS (
    SELECT
        *,
        CASE
            WHEN score <= 3 AND lower(customer_tier) IN (SELECT unnest($high_value_tiers)) THEN 'P1'
            WHEN score <= 1 THEN 'P1'
            WHEN score <= 3 OR lower(customer_tier) IN (SELECT unnest($high_value_tiers)) THEN 'P2'
            ELSE 'P3'
        END AS priority
    FROM ranked_staged($files)
    WHERE version_rank = 1 AND category = 'detractor'
)
SELECT
    response_id,
    response_date,
    submitted_at,
    CASE WHEN respondent_identity IS NOT NULL
        THEN sha256($pseudonym_key || respondent_identity) END AS respondent_key,
    email,
    score::TINYINT AS score,
    comment,
    language,
    channel,
    region,
    product,
    touchpoint,
    customer_tier,
    priority,
    submitted_at + to_hours(CAST(CASE priority
        WHEN 'P1' THEN $sla_hours_p1 WHEN 'P2' THEN $sla_hours_p2 ELSE $sla_hours_p3 END AS BIGINT)) AS due_at,
    'open' AS status,
    source_file,
    source_row
FROM detractors
ORDER BY response_date, priority, submitted_at, response_id
