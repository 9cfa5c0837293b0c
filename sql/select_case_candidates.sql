-- Select the window's detractor responses with the staged contact (email, name) and what the customer's earlier responses since $horizon (in the look-back files: summary and respondent index) say: repeat detractor, previous score, worsening.
WITH window_detractors AS (
    SELECT
        response_id, response_date, submitted_at, respondent_key, score, comment, language, comment_language,
        channel, region, product, touchpoint, customer_tier, themes, source_file, source_row
    FROM read_parquet($window_files, union_by_name = true)
    WHERE category = 'detractor' AND response_date BETWEEN $first_day AND $last_day
),
contacts AS (
    SELECT source_file, source_row, email, respondent_name
    FROM read_parquet($staged_files, union_by_name = true)
    WHERE category = 'detractor' AND response_date BETWEEN $first_day AND $last_day
),
-- The index keeps a 64-bit prefix of the 256-bit key: a fraction of the strings to read, and a
-- chance of two customers sharing one below 1e-7 even for a million customers.
window_prefixes AS (
    SELECT DISTINCT TRY_CAST('0x' || left(respondent_key, 16) AS UBIGINT) AS respondent_prefix, respondent_key
    FROM window_detractors
    WHERE respondent_key IS NOT NULL
),
history AS (
    SELECT p.respondent_key, h.response_id, h.submitted_at, h.score, h.is_detractor
    FROM read_parquet($history_files, union_by_name = true) AS h
    JOIN window_prefixes AS p USING (respondent_prefix)
    -- The summary keeps each customer's latest response and latest detractor, however old.
    WHERE h.response_date >= $horizon
),
earlier AS (
    SELECT
        d.response_id,
        arg_max(h.score, (h.submitted_at, h.response_id)) AS previous_score,
        count(*) FILTER (WHERE h.is_detractor) AS earlier_detractors
    FROM window_detractors AS d
    JOIN history AS h
        ON h.respondent_key = d.respondent_key AND (h.submitted_at, h.response_id) < (d.submitted_at, d.response_id)
    GROUP BY d.response_id
)
SELECT
    d.*,
    -- The id of the case this response would open: stable, from its response_id.
    'CASE-' || upper(substr(md5(d.response_id), 1, 10)) AS own_case_id,
    earlier.previous_score,
    coalesce(earlier.earlier_detractors, 0) > 0 AS repeat_detractor,
    coalesce(d.score < earlier.previous_score, false) AS worsening,
    contacts.email,
    contacts.respondent_name
FROM window_detractors AS d
LEFT JOIN earlier USING (response_id)
LEFT JOIN contacts ON contacts.source_file = d.source_file AND contacts.source_row = d.source_row
ORDER BY d.submitted_at, d.response_id
