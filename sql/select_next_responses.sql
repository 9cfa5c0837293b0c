-- Select, for each contacted case, the customer's first response after the first contact (within the history files), and whether its score improved on the case's last score before contact.
WITH contacted AS (
    SELECT case_id, respondent_key, contacted_at, score_before_contact
    FROM contacted_cases
),
later AS (
    SELECT
        contacted.case_id,
        arg_min(h.response_id, (h.submitted_at, h.response_id)) AS next_response_id,
        arg_min(h.score, (h.submitted_at, h.response_id)) AS next_score,
        min(h.submitted_at) AS next_submitted_at
    FROM contacted
    JOIN read_parquet($history_files, union_by_name = true) AS h
        ON h.respondent_key = contacted.respondent_key AND h.submitted_at > contacted.contacted_at
    GROUP BY contacted.case_id
)
SELECT
    later.case_id,
    later.next_response_id,
    later.next_score::TINYINT AS next_score,
    later.next_submitted_at,
    later.next_score > contacted.score_before_contact AS improved
FROM later
JOIN contacted USING (case_id)
