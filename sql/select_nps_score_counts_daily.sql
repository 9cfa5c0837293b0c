-- Select the additive facts: responses per day x dimension x segment x score (0-10); 'overall'/'all' is every response, attribute dimensions come from $attribute_names; a missing value is the segment '(not set)', so each dimension sums to the overall count.
WITH base AS (
    SELECT
        response_date,
        score,
        attributes,
        coalesce(nullif(trim(channel), ''), '(not set)') AS channel,
        coalesce(nullif(trim(region), ''), '(not set)') AS region,
        coalesce(nullif(trim(product), ''), '(not set)') AS product,
        coalesce(nullif(trim(touchpoint), ''), '(not set)') AS touchpoint,
        coalesce(nullif(trim(customer_tier), ''), '(not set)') AS customer_tier,
        coalesce(nullif(trim(language), ''), '(not set)') AS language
    FROM read_parquet($files, union_by_name = true)
),
by_dimension AS (
    SELECT response_date, score, 'overall' AS dimension, 'all' AS segment
    FROM base
    UNION ALL
    SELECT response_date, score, dimension, segment
    FROM (
        UNPIVOT (SELECT response_date, score, channel, region, product, touchpoint, customer_tier, language FROM base)
        ON channel, region, product, touchpoint, customer_tier, language
        INTO NAME dimension VALUE segment
    )
    UNION ALL
    SELECT response_date, score, 'attribute:' || name AS dimension,
        coalesce(
            nullif(trim(json_extract_string(attributes, '$."' || replace(name, '"', '\"') || '"')), ''), '(not set)'
        ) AS segment
    FROM base, unnest($attribute_names) AS wanted(name)
)
SELECT response_date, dimension, segment, score::TINYINT AS score, count(*)::BIGINT AS responses
FROM by_dimension
GROUP BY ALL
ORDER BY ALL
