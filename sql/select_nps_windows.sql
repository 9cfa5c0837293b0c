-- Select NPS for every window ending in [$range_start, $range_end], overall and per segment, from summed score counts, with bounds, margin, low-sample flags and the test against the previous non-overlapping window: tested only when both windows are complete and neither is low-sample, decided on Benjamini-Hochberg q-values across the segments of one window type and end.
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
    -- Materialised days in each window and each previous window (a day with no response counts: it was materialised).
    SELECT spans.window_type, spans.span_start, spans.span_end, count(spine.day) AS days_covered
    FROM spans
    LEFT JOIN (SELECT DISTINCT CAST(day AS DATE) AS day FROM unnest(CAST($spine AS DATE[])) AS t(day)) AS spine
        ON spine.day BETWEEN spans.span_start AND spans.span_end
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
),
tested AS (
    SELECT
        measured.*,
        coverage.days_covered,
        previous_coverage.days_covered AS previous_days_covered,
        coverage.days_covered = measured.window_end - measured.window_start + 1 AS complete,
        previous_coverage.days_covered = measured.previous_end - measured.previous_start + 1 AS previous_complete,
        measured.responses < $low_sample_threshold AS low_sample,
        measured.previous_responses < $low_sample_threshold AS previous_low_sample,
        nps_change_z(
            measured.promoters, measured.detractors, measured.responses,
            measured.previous_promoters, measured.previous_detractors, measured.previous_responses
        ) AS change_z
    FROM measured
    JOIN coverage
        ON coverage.window_type = measured.window_type AND coverage.span_start = measured.window_start
        AND coverage.span_end = measured.window_end
    JOIN coverage AS previous_coverage
        ON previous_coverage.window_type = measured.window_type AND previous_coverage.span_start = measured.previous_start
        AND previous_coverage.span_end = measured.previous_end
),
reasoned AS (
    SELECT
        *,
        normal_two_sided_p(change_z) AS change_p_value,
        CASE
            WHEN previous_responses = 0 THEN 'no responses in the previous window'
            WHEN NOT complete THEN 'current window incomplete (' || days_covered || ' of ' || (window_end - window_start + 1) || ' days)'
            WHEN NOT previous_complete
                THEN 'previous window incomplete (' || previous_days_covered || ' of ' || (previous_end - previous_start + 1) || ' days)'
            WHEN low_sample THEN 'current window low-sample (' || responses || ' responses)'
            WHEN previous_low_sample THEN 'previous window low-sample (' || previous_responses || ' responses)'
            WHEN change_z IS NULL THEN 'no variance to test (every answer in one category)'
        END AS change_not_tested
    FROM tested
),
ranked AS (
    SELECT
        *,
        CASE WHEN change_not_tested IS NULL THEN change_p_value END AS tested_p,
        count(tested_p) OVER (PARTITION BY window_type, window_end) AS tests,
        row_number() OVER (PARTITION BY window_type, window_end ORDER BY tested_p ASC NULLS LAST) AS p_rank
    FROM reasoned
),
adjusted AS (
    -- Benjamini-Hochberg: q_(i) = min over j >= i of p_(j) * m / j, over the tests of one window type and end.
    SELECT
        *,
        CASE WHEN tested_p IS NOT NULL THEN least(1.0, min(tested_p * tests / p_rank) OVER (
            PARTITION BY window_type, window_end ORDER BY tested_p DESC NULLS LAST, p_rank DESC
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        )) END AS change_q_value
    FROM ranked
)
SELECT
    window_type,
    window_start,
    window_end,
    CAST(window_end - window_start + 1 AS INTEGER) AS days_in_window,
    CAST(days_covered AS INTEGER) AS days_covered,
    complete,
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
    low_sample,
    previous_start,
    previous_end,
    CAST(previous_responses AS BIGINT) AS previous_responses,
    CAST(previous_days_covered AS INTEGER) AS previous_days_covered,
    previous_complete,
    previous_low_sample,
    nps_score(previous_promoters, previous_detractors, previous_responses) AS previous_nps,
    nps_score(promoters, detractors, responses)
        - nps_score(previous_promoters, previous_detractors, previous_responses) AS nps_change,
    change_z,
    change_p_value,
    change_q_value,
    CASE WHEN change_not_tested IS NULL THEN change_q_value < $significance_level END AS significant_change,
    change_not_tested
FROM adjusted
ORDER BY window_end, window_type, dimension, segment
