-- Select the open cases for a CRM import: one row per case, worst first, with the customer's email and name from the latest response's staged row (the only published place names appear).
WITH contacts AS (
    SELECT source_file, source_row, email, respondent_name
    FROM read_parquet($staged_files, union_by_name = true)
    WHERE response_date IN (SELECT response_date FROM open_cases)
),
comments AS (
    SELECT response_id, comment
    FROM read_parquet($responses_files, union_by_name = true)
    WHERE response_id IN (SELECT latest_response_id FROM open_cases)
)
SELECT
    open_cases.case_id,
    open_cases.priority,
    open_cases.due_at,
    open_cases.status,
    open_cases.owner,
    open_cases.owner_queue,
    contacts.email,
    contacts.respondent_name AS name,
    open_cases.respondent_key,
    open_cases.customer_tier,
    open_cases.region,
    open_cases.product,
    open_cases.channel,
    open_cases.language,
    open_cases.responses,
    open_cases.latest_score,
    open_cases.worst_score,
    comments.comment AS latest_comment,
    array_to_string(open_cases.themes, '; ') AS themes,
    array_to_string(open_cases.negative_keywords, '; ') AS negative_keywords,
    open_cases.repeat_detractor,
    open_cases.worsening,
    open_cases.priority_reasons,
    open_cases.opened_at,
    open_cases.contacted_at
FROM open_cases
LEFT JOIN contacts USING (source_file, source_row)
LEFT JOIN comments ON comments.response_id = open_cases.latest_response_id
ORDER BY open_cases.priority, open_cases.due_at, open_cases.case_id
