-- Select the daily NPS of every segment of every dimension with responses, from the score counts.
WITH counts AS (
    SELECT * FROM nps_category_counts($files) WHERE dimension <> 'overall'
)
SELECT
    response_date,
    dimension,
    segment,
    responses::BIGINT AS responses,
    promoters::BIGINT AS promoters,
    passives::BIGINT AS passives,
    detractors::BIGINT AS detractors,
    nps_score(promoters, detractors, responses) AS nps,
    nps_adjusted_wald_bound(promoters, detractors, responses, -1) AS nps_ci_low,
    nps_adjusted_wald_bound(promoters, detractors, responses, 1) AS nps_ci_high,
    nps_margin_of_error(promoters, detractors, responses) AS margin_of_error,
    responses < $low_sample_threshold AS low_sample
FROM counts
ORDER BY response_date, dimension, segment
