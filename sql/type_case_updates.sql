-- Type the status-update rows: contacted_at and resolved_at as UTC (ISO 8601 with an offset, or a local time in $timezone); unreadable values become null beside their text.
SELECT
    *,
    CASE
        WHEN contacted_at_text IS NULL THEN NULL
        WHEN regexp_matches(contacted_at_text, '(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$') THEN try_cast(contacted_at_text AS TIMESTAMPTZ)
        ELSE timezone($timezone, try_cast(contacted_at_text AS TIMESTAMP))
    END AS contacted_at,
    CASE
        WHEN resolved_at_text IS NULL THEN NULL
        WHEN regexp_matches(resolved_at_text, '(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)$') THEN try_cast(resolved_at_text AS TIMESTAMPTZ)
        ELSE timezone($timezone, try_cast(resolved_at_text AS TIMESTAMP))
    END AS resolved_at
FROM update_rows
