-- Select one follow-up row per kept detractor response (from the responses files), with the staged contact, a priority from score and tier, and an SLA due time.
WITH detractors AS (
    SELECT
        *,
        CASE
            WHEN score <= 3 AND lower(customer_tier) IN (SELECT unnest($high_value_tiers)) THEN 'P1'
            WHEN score <= 1 THEN 'P1'
            WHEN score <= 3 OR lower(customer_tier) IN (SELECT unnest($high_value_tiers)) THEN 'P2'
            ELSE 'P3'
        END AS priority
    FROM read_parquet($responses_files, union_by_name = true)
    WHERE category = 'detractor'
),
contacts AS (
    SELECT source_file, source_row, email
    FROM read_parquet($staged_files, union_by_name = true)
    WHERE category = 'detractor' AND response_date BETWEEN $first_day AND $last_day
)
SELECT
    detractors.response_id,
    detractors.response_date,
    detractors.submitted_at,
    detractors.respondent_key,
    contacts.email,
    detractors.score,
    detractors.comment,
    detractors.language,
    detractors.channel,
    detractors.region,
    detractors.product,
    detractors.touchpoint,
    detractors.customer_tier,
    detractors.priority,
    detractors.submitted_at + to_hours(CAST(CASE detractors.priority
        WHEN 'P1' THEN $sla_hours_p1 WHEN 'P2' THEN $sla_hours_p2 ELSE $sla_hours_p3 END AS BIGINT)) AS due_at,
    'open' AS status,
    detractors.source_file,
    detractors.source_row
FROM detractors
LEFT JOIN contacts USING (source_file, source_row)
ORDER BY detractors.response_date, detractors.priority, detractors.submitted_at, detractors.response_id
