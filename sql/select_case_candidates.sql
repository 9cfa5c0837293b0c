-- Select the window's detractor responses with the staged contact (email, name) and what the customer's earlier responses within $history_days of each (in the look-back files from $horizon: summary and respondent index) say: repeat detractor, previous score, worsening.
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
    SELECT h.respondent_prefix, h.response_id, h.submitted_at, h.response_date, h.score, h.is_detractor
    FROM read_parquet($history_files, union_by_name = true) AS h
    SEMI JOIN window_prefixes AS p USING (respondent_prefix)
    -- Another version of a window response (an earlier export's date) is not an earlier response.
    ANTI JOIN window_detractors AS w ON w.response_id = h.response_id AND w.submitted_at <> h.submitted_at
    -- The summary keeps each customer's latest response and latest detractor, however old.
    WHERE h.response_date >= $horizon
),
-- One pass over each customer's responses in time order (no pairing of every response with every
-- earlier one): the response just before, and the day of the latest detractor before, each one.
in_order AS (
    SELECT
        response_id,
        response_date,
        lag(score) OVER customer AS before_score,
        lag(response_date) OVER customer AS before_date,
        max(CASE WHEN is_detractor THEN response_date END) OVER (
            customer ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS detractor_before_date
    FROM history
    WINDOW customer AS (PARTITION BY respondent_prefix ORDER BY submitted_at, response_id)
),
-- Within $history_days before each response's own day, as a nightly run of that day sees it.
earlier AS (
    SELECT DISTINCT ON (response_id)
        response_id,
        CASE WHEN before_date >= response_date - $history_days THEN before_score END AS previous_score,
        coalesce(detractor_before_date >= response_date - $history_days, false) AS repeat_detractor
    FROM in_order
    SEMI JOIN window_detractors USING (response_id)
)
SELECT
    d.*,
    -- The id of the case this response would open: stable, from its response_id.
    'CASE-' || upper(substr(md5(d.response_id), 1, 10)) AS own_case_id,
    earlier.previous_score,
    coalesce(earlier.repeat_detractor, false) AS repeat_detractor,
    coalesce(d.score < earlier.previous_score, false) AS worsening,
    contacts.email,
    contacts.respondent_name
FROM window_detractors AS d
LEFT JOIN earlier USING (response_id)
LEFT JOIN contacts ON contacts.source_file = d.source_file AND contacts.source_row = d.source_row
ORDER BY d.submitted_at, d.response_id
