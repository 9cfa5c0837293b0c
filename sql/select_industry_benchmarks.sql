-- Select the industry NPS benchmarks seed (published figures with publisher, study, year, method and provenance).
SELECT
    publisher, study, published, fieldwork, region, segment, industry,
    CAST(nps AS DOUBLE) AS nps, method,
    CAST(n_respondents AS BIGINT) AS n_respondents,
    CAST(n_companies AS BIGINT) AS n_companies,
    provenance
FROM read_csv(
    $path,
    header = true,
    columns = {
        'publisher': 'VARCHAR', 'study': 'VARCHAR', 'published': 'VARCHAR', 'fieldwork': 'VARCHAR',
        'region': 'VARCHAR', 'segment': 'VARCHAR', 'industry': 'VARCHAR', 'nps': 'DOUBLE', 'method': 'VARCHAR',
        'n_respondents': 'BIGINT', 'n_companies': 'BIGINT', 'provenance': 'VARCHAR'
    }
)
