-- Select the open cases for a CRM import: one row per case, worst first, with the customer's email, name and comment from the case's latest response (the only published place names appear).
SELECT
    open_cases.case_id,
    open_cases.priority,
    open_cases.due_at,
    open_cases.status,
    open_cases.owner,
    open_cases.owner_queue,
    open_cases.email,
    open_cases.name,
    open_cases.respondent_key,
    open_cases.customer_tier,
    open_cases.region,
    open_cases.product,
    open_cases.channel,
    open_cases.language,
    open_cases.responses,
    open_cases.latest_score,
    open_cases.worst_score,
    open_cases.latest_comment,
    array_to_string(open_cases.themes, '; ') AS themes,
    array_to_string(open_cases.negative_keywords, '; ') AS negative_keywords,
    open_cases.repeat_detractor,
    open_cases.worsening,
    open_cases.priority_reasons,
    open_cases.opened_at,
    open_cases.contacted_at
FROM open_cases
ORDER BY open_cases.priority, open_cases.due_at, open_cases.case_id
