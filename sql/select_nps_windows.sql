-- Select NPS for every window ending in [$range_start, $range_end], overall and per segment, from summed score counts, with bounds, margin, low-sample flag and the test against the previous non-overlapping window.
WITH windows AS (
    SELECT * FROM nps_window_definitions($spine, $range_start, $range_end)
),
spans AS (
    SELECT window_type, window_start AS span_start, window_end AS span_end FROM windows
    UNION
    SELECT window_type, previous_start, previous_end FROM windows
),
daily AS (
    SELECT * FROM nps_category_counts($files)
),
span_counts AS (
    SELECT
        spans.window_type, spans.span_start, spans.span_end, daily.dimension, daily.segment,
        sum(daily.responses) AS responses,
        sum(daily.promoters) AS promoters,
        sum(daily.passives) AS passives,
        sum(daily.detractors) AS detractors
    FROM spans
    JOIN daily ON daily.response_date BETWEEN spans.span_start AND spans.span_end
    GROUP BY ALL
),
coverage AS (
    SELECT windows.window_type, windows.window_start, windows.window_end, count(spine.day) AS days_covered
    FROM windows
    LEFT JOIN (SELECT DISTINCT CAST(day AS DATE) AS day FROM unnest(CAST($spine AS DATE[])) AS t(day)) AS spine
        ON spine.day BETWEEN windows.window_start AND windows.window_end
    GROUP BY ALL
),
segments AS (
    SELECT DISTINCT dimension, segment FROM daily
    UNION
    SELECT 'overall', 'all'
),
measured AS (
    SELECT
        windows.window_type,
        windows.window_start,
        windows.window_end,
        segments.dimension,
        segments.segment,
        coalesce(cur.responses, 0) AS responses,
        coalesce(cur.promoters, 0) AS promoters,
        coalesce(cur.passives, 0) AS passives,
        coalesce(cur.detractors, 0) AS detractors,
        windows.previous_start,
        windows.previous_end,
        coalesce(prev.responses, 0) AS previous_responses,
        coalesce(prev.promoters, 0) AS previous_promoters,
        coalesce(prev.detractors, 0) AS previous_detractors
    FROM windows
    CROSS JOIN segments
    LEFT JOIN span_counts AS cur
        ON cur.window_type = windows.window_type AND cur.span_start = windows.window_start
        AND cur.span_end = windows.window_end AND cur.dimension = segments.dimension AND cur.segment = segments.segment
    LEFT JOIN span_counts AS prev
        ON prev.window_type = windows.window_type AND prev.span_start = windows.previous_start
        AND prev.span_end = windows.previous_end AND prev.dimension = segments.dimension AND prev.segment = segments.segment
    WHERE cur.responses > 0 OR segments.dimension = 'overall'
)
SELECT
    measured.window_type,
    measured.window_start,
    measured.window_end,
    CAST(measured.window_end - measured.window_start + 1 AS INTEGER) AS days_in_window,
    CAST(coverage.days_covered AS INTEGER) AS days_covered,
    coverage.days_covered = measured.window_end - measured.window_start + 1 AS complete,
    dimension,
    segment,
    CAST(responses AS BIGINT) AS responses,
    CAST(promoters AS BIGINT) AS promoters,
    CAST(passives AS BIGINT) AS passives,
    CAST(detractors AS BIGINT) AS detractors,
    nps_score(promoters, detractors, responses) AS nps,
    nps_adjusted_wald_bound(promoters, detractors, responses, -1) AS nps_ci_low,
    nps_adjusted_wald_bound(promoters, detractors, responses, 1) AS nps_ci_high,
    nps_margin_of_error(promoters, detractors, responses) AS margin_of_error,
    responses < $low_sample_threshold AS low_sample,
    measured.previous_start,
    measured.previous_end,
    CAST(previous_responses AS BIGINT) AS previous_responses,
    nps_score(previous_promoters, previous_detractors, previous_responses) AS previous_nps,
    nps_score(promoters, detractors, responses)
        - nps_score(previous_promoters, previous_detractors, previous_responses) AS nps_change,
    nps_change_z(promoters, detractors, responses, previous_promoters, previous_detractors, previous_responses) AS change_z,
    normal_two_sided_p(
        nps_change_z(promoters, detractors, responses, previous_promoters, previous_detractors, previous_responses)
    ) AS change_p_value,
    coalesce(
        normal_two_sided_p(
            nps_change_z(promoters, detractors, responses, previous_promoters, previous_detractors, previous_responses)
        ) < $significance_level,
        false
    ) AS significant_change
FROM measured
JOIN coverage USING (window_type, window_start, window_end)
ORDER BY window_end, window_type, dimension, segment
