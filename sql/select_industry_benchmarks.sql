-- Select the industry NPS benchmarks (published figures with publisher, study, year, method and provenance) from a CSV, columns matched by name.
SELECT
    publisher, study, published, fieldwork, region, segment, industry,
    CAST(nps AS DOUBLE) AS nps, method,
    CAST(nullif(trim(n_respondents), '') AS BIGINT) AS n_respondents,
    CAST(nullif(trim(n_companies), '') AS BIGINT) AS n_companies,
    provenance
FROM read_csv($path, header = true, all_varchar = true)
