-- Type an export's text rows: the score as a whole number; submitted_at as UTC (ISO 8601, the source's $formats, or Unix seconds; naive times read in $source_timezone); its day in $timezone.
WITH trimmed AS (
    SELECT
        * EXCLUDE (response_id, score, submitted_at),
        nullif(trim(response_id), '') AS response_id,
        nullif(trim(score), '') AS score,
        nullif(trim(submitted_at), '') AS submitted_at
    FROM export_rows
),
typed AS (
    SELECT
        *,
        CASE WHEN regexp_full_match(score, '[+-]?[0-9]{1,9}([.,]0+)?')
            THEN CAST(regexp_replace(score, '[.,]0+$', '') AS BIGINT) END AS score_value,
        CASE
            WHEN regexp_full_match(submitted_at, '[0-9]{9,10}(\.[0-9]+)?')
                THEN to_timestamp(CAST(submitted_at AS DOUBLE))
            WHEN try_strptime(submitted_at, $formats) IS NOT NULL
                THEN timezone($source_timezone, try_strptime(submitted_at, $formats))
            WHEN regexp_matches(submitted_at, '(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$')
                THEN try_cast(submitted_at AS TIMESTAMPTZ)
            ELSE timezone($source_timezone, try_cast(submitted_at AS TIMESTAMP))
        END AS submitted_at_value
    FROM trimmed
)
SELECT *, CAST(timezone($timezone, submitted_at_value) AS DATE) AS response_date
FROM typed
