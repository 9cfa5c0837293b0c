-- Select the look-back summary from the look-back rows given: each customer's latest response and latest detractor response on or after $horizon.
WITH look_back AS (
    SELECT respondent_prefix, submitted_at, response_id, score, is_detractor, response_date
    FROM read_parquet($files, union_by_name = true)
    WHERE respondent_prefix IS NOT NULL AND response_date >= $horizon
),
-- Found by time first, then the rows at those times read again: a year of response ids is never sorted.
latest AS (
    SELECT respondent_prefix, max(submitted_at) AS latest_at, max(submitted_at) FILTER (WHERE is_detractor) AS detractor_at
    FROM look_back
    GROUP BY respondent_prefix
),
at_latest AS (
    SELECT l.*, l.submitted_at = latest.latest_at AS is_latest, l.is_detractor AND l.submitted_at = latest.detractor_at AS is_latest_detractor
    FROM look_back AS l
    JOIN latest USING (respondent_prefix)
    WHERE l.submitted_at = latest.latest_at OR (l.is_detractor AND l.submitted_at = latest.detractor_at)
)
-- Answers in the same second are ordered by response id, as everywhere else.
SELECT * EXCLUDE (is_latest, is_latest_detractor) FROM (
    (SELECT * FROM at_latest WHERE is_latest QUALIFY row_number() OVER (PARTITION BY respondent_prefix ORDER BY response_id DESC) = 1)
    UNION
    (SELECT * FROM at_latest WHERE is_latest_detractor QUALIFY row_number() OVER (PARTITION BY respondent_prefix ORDER BY response_id DESC) = 1)
)
ORDER BY respondent_prefix, submitted_at, response_id
