-- Select one NPS row per day of the window [start, end) from the score counts, days without responses included.
WITH days AS (
    SELECT CAST(day AS DATE) AS response_date
    FROM generate_series(CAST($start AS DATE), CAST($end AS DATE) - 1, INTERVAL 1 DAY) AS t(day)
),
counts AS (
    SELECT * FROM nps_category_counts($files) WHERE dimension = 'overall'
)
SELECT
    days.response_date,
    coalesce(responses, 0)::BIGINT AS responses,
    coalesce(promoters, 0)::BIGINT AS promoters,
    coalesce(passives, 0)::BIGINT AS passives,
    coalesce(detractors, 0)::BIGINT AS detractors,
    nps_score(coalesce(promoters, 0), coalesce(detractors, 0), coalesce(responses, 0)) AS nps,
    nps_adjusted_wald_bound(coalesce(promoters, 0), coalesce(detractors, 0), coalesce(responses, 0), -1) AS nps_ci_low,
    nps_adjusted_wald_bound(coalesce(promoters, 0), coalesce(detractors, 0), coalesce(responses, 0), 1) AS nps_ci_high,
    nps_margin_of_error(coalesce(promoters, 0), coalesce(detractors, 0), coalesce(responses, 0)) AS margin_of_error,
    coalesce(responses, 0) < $low_sample_threshold AS low_sample
FROM days
LEFT JOIN counts USING (response_date)
ORDER BY days.response_date
