-- Select each day x dimension of nps_daily_segment whose segments do not sum to that day's nps_daily counts.
WITH segments AS (
    SELECT response_date, dimension, sum(responses) AS responses, sum(promoters) AS promoters, sum(detractors) AS detractors
    FROM read_parquet($segment_files, union_by_name = true)
    GROUP BY ALL
)
SELECT segments.response_date::VARCHAR AS period, segments.dimension, segments.responses AS segment_responses,
    overall.responses AS overall_responses
FROM segments
JOIN read_parquet($overall_files, union_by_name = true) AS overall USING (response_date)
WHERE segments.responses <> overall.responses
    OR segments.promoters <> overall.promoters
    OR segments.detractors <> overall.detractors
ORDER BY ALL
LIMIT 20
