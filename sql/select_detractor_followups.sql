-- Select one follow-up row per kept detractor response (from the responses files) with the staged contact and its case: case id, the case's priority, SLA due time, status and owner as of this run.
WITH detractors AS (
    SELECT *
    FROM read_parquet($responses_files, union_by_name = true)
    WHERE category = 'detractor'
),
contacts AS (
    SELECT source_file, source_row, email
    FROM read_parquet($staged_files, union_by_name = true)
    WHERE category = 'detractor' AND response_date BETWEEN $first_day AND $last_day
),
case_of_response AS (
    SELECT response_id, case_id, priority_reasons AS response_priority_reasons, negative_keywords
    FROM read_parquet($case_responses_files, union_by_name = true)
),
cases AS (
    SELECT case_id, priority, due_at, status, owner, owner_queue
    FROM read_parquet($cases_file)
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
    cases.priority,
    cases.due_at,
    cases.status,
    detractors.source_file,
    detractors.source_row,
    case_of_response.case_id,
    cases.owner,
    cases.owner_queue,
    detractors.themes,
    case_of_response.negative_keywords
FROM detractors
LEFT JOIN contacts USING (source_file, source_row)
LEFT JOIN case_of_response USING (response_id)
LEFT JOIN cases USING (case_id)
ORDER BY detractors.response_date, cases.priority, detractors.submitted_at, detractors.response_id
