-- Select each window x dimension of nps_windows whose segments do not sum to the window's overall counts.
WITH windows AS (
    SELECT * FROM read_parquet($files, union_by_name = true)
),
segments AS (
    SELECT window_type, window_end, dimension, sum(responses) AS responses, sum(promoters) AS promoters, sum(detractors) AS detractors
    FROM windows
    WHERE dimension <> 'overall'
    GROUP BY ALL
)
SELECT segments.window_type || ' ending ' || segments.window_end::VARCHAR AS period, segments.dimension,
    segments.responses AS segment_responses, overall.responses AS overall_responses
FROM segments
JOIN (SELECT * FROM windows WHERE dimension = 'overall') AS overall USING (window_type, window_end)
WHERE segments.responses <> overall.responses
    OR segments.promoters <> overall.promoters
    OR segments.detractors <> overall.detractors
ORDER BY ALL
LIMIT 20
