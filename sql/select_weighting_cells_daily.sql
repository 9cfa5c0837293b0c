-- Select each day's respondent cells (the $strata values, trimmed and lower-cased) with responses, promoters and detractors, from the responses files given.
SELECT
    response_date,
    list_transform(
        CAST($strata AS VARCHAR[]),
        lambda name: coalesce(lower(trim(
            CASE name
                WHEN 'channel' THEN channel WHEN 'region' THEN region WHEN 'product' THEN product
                WHEN 'touchpoint' THEN touchpoint WHEN 'customer_tier' THEN customer_tier
                WHEN 'language' THEN language WHEN 'source_format' THEN source_format
                ELSE json_extract_string(attributes, '$."' || replace(name, '"', '\"') || '"')
            END)), '')) AS cell_values,
    count(*) AS responses,
    count(*) FILTER (WHERE score >= 9) AS promoters,
    count(*) FILTER (WHERE score <= 6) AS detractors
FROM read_parquet($files, union_by_name = true)
GROUP BY ALL
