-- Select the superseded versions whose own day is in the given days, and the quarantined later versions of a response whose kept version's day is, each with the version kept and why, for the duplicates table.
WITH superseded AS (
    SELECT * FROM read_parquet($superseded)
),
quarantined AS (
    -- Rows quarantined with an id, and their file's order ($quarantine_sources and $quarantine_orders, from the manifests).
    SELECT q.response_id, q.source_file, q.source_row, q.reasons, o.file_order
    FROM read_parquet($quarantine_files, union_by_name = true) AS q
    JOIN (SELECT unnest($quarantine_sources) AS source_file, unnest($quarantine_orders) AS file_order) AS o USING (source_file)
    WHERE q.response_id IS NOT NULL
),
kept AS (
    -- The window's versions kept (staged and not superseded) of the ids quarantined somewhere.
    SELECT v.response_id, v.source_file, v.source_row, v.score, v.response_date, v.file_order
    FROM read_parquet($window_files, union_by_name = true) AS v
    WHERE v.response_date BETWEEN $first_day AND $last_day
        AND v.response_id IN (SELECT response_id FROM quarantined)
        AND NOT EXISTS (SELECT 1 FROM superseded AS s WHERE s.source_file = v.source_file AND s.source_row = v.source_row)
)
SELECT
    response_date,
    source_file,
    source_row,
    response_id,
    score::TINYINT AS score,
    kept_source_file,
    kept_source_row,
    kept_score::TINYINT AS kept_score,
    kept_response_date,
    score IS DISTINCT FROM kept_score AS score_changed,
    false AS version_quarantined,
    CASE WHEN kept_source_file = source_file
        THEN 'superseded: a later row of the same file has this response_id, and its version is kept'
        ELSE 'superseded: a later file has this response_id, and its version is kept'
    END AS why
FROM superseded
WHERE response_date BETWEEN $first_day AND $last_day
UNION ALL
SELECT
    k.response_date,
    q.source_file,
    q.source_row,
    q.response_id,
    NULL::TINYINT AS score,
    k.source_file AS kept_source_file,
    k.source_row AS kept_source_row,
    k.score::TINYINT AS kept_score,
    k.response_date AS kept_response_date,
    NULL::BOOLEAN AS score_changed,
    true AS version_quarantined,
    'a later version of this response was quarantined (' || q.reasons || '), so the earlier valid version is kept' AS why
FROM quarantined AS q
JOIN kept AS k USING (response_id)
WHERE q.file_order > k.file_order
    OR (q.file_order = k.file_order AND (q.source_file > k.source_file OR (q.source_file = k.source_file AND q.source_row > k.source_row)))
