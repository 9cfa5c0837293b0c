-- Select the daily NPS of every segment value of every segment dimension that has responses in the given files.
WITH segmented AS (
    UNPIVOT (
        SELECT response_date, category, channel, region, product, touchpoint, customer_tier, language
        FROM read_parquet($files, union_by_name = true)
    )
    ON channel, region, product, touchpoint, customer_tier, language
    INTO NAME dimension VALUE segment
),
counts AS (
    SELECT
        response_date,
        dimension,
        segment,
        count(*) AS responses,
        count(*) FILTER (WHERE category = 'promoter') AS promoters,
        count(*) FILTER (WHERE category = 'passive') AS passives,
        count(*) FILTER (WHERE category = 'detractor') AS detractors
    FROM segmented
    WHERE segment IS NOT NULL AND segment <> ''
    GROUP BY response_date, dimension, segment
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
    nps_adjusted_wald_bound(promoters, detractors, responses, 1) AS nps_ci_high
FROM counts
ORDER BY response_date, dimension, segment
