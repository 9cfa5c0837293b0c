-- Select overall NPS per window ending in [$range_start, $range_end], unweighted and post-stratified to $population shares of the $strata cells (values matched trimmed and case-insensitively), with Kish's effective sample size in the weighted interval.
WITH windows AS (
    SELECT * FROM nps_window_definitions($spine, $range_start, $range_end)
),
population AS (
    SELECT cell.cell AS cell, cell.share / sum(cell.share ORDER BY cell.cell) OVER () AS share
    FROM unnest(CAST($population AS STRUCT(cell VARCHAR, share DOUBLE)[])) AS t(cell)
),
cells_daily AS (
    SELECT
        response_date,
        array_to_string(
            list_transform(
                CAST($strata AS VARCHAR[]),
                lambda name: coalesce(lower(trim(
                    CASE name
                        WHEN 'channel' THEN channel WHEN 'region' THEN region WHEN 'product' THEN product
                        WHEN 'touchpoint' THEN touchpoint WHEN 'customer_tier' THEN customer_tier
                        WHEN 'language' THEN language WHEN 'source_format' THEN source_format
                        ELSE json_extract_string(attributes, '$."' || replace(name, '"', '\"') || '"')
                    END)), '')),
            chr(31)) AS cell,
        count(*) AS responses,
        count(*) FILTER (WHERE score >= 9) AS promoters,
        count(*) FILTER (WHERE score <= 6) AS detractors
    FROM read_parquet($files, union_by_name = true)
    GROUP BY ALL
),
window_cells AS (
    SELECT
        windows.window_type, windows.window_start, windows.window_end, cells_daily.cell,
        sum(cells_daily.responses) AS responses,
        sum(cells_daily.promoters) AS promoters,
        sum(cells_daily.detractors) AS detractors,
        any_value(population.share) AS share
    FROM windows
    JOIN cells_daily ON cells_daily.response_date BETWEEN windows.window_start AND windows.window_end
    LEFT JOIN population USING (cell)
    GROUP BY ALL
),
covered AS (
    -- The cells with both respondents and a population share; shares are renormalised over them.
    SELECT
        *,
        sum(share) OVER w AS share_covered,
        sum(responses) OVER w AS responses_covered
    FROM window_cells
    WHERE share > 0
    -- Ordered sums throughout: floating-point sums in a fixed order give the same figures on every re-run.
    WINDOW w AS (
        PARTITION BY window_type, window_start, window_end ORDER BY cell
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    )
),
weighted AS (
    SELECT
        window_type, window_start, window_end,
        -- w_h = (N_h / N) / (n_h / n) for every response of cell h.
        sum(promoters * (share / share_covered) / (responses / responses_covered) ORDER BY cell)
            / sum(responses * (share / share_covered) / (responses / responses_covered) ORDER BY cell) AS promoter_share,
        sum(detractors * (share / share_covered) / (responses / responses_covered) ORDER BY cell)
            / sum(responses * (share / share_covered) / (responses / responses_covered) ORDER BY cell) AS detractor_share,
        pow(sum(responses * (share / share_covered) / (responses / responses_covered) ORDER BY cell), 2)
            / sum(responses * pow((share / share_covered) / (responses / responses_covered), 2) ORDER BY cell)
            AS effective_sample_size,
        any_value(responses_covered) AS responses_weighted,
        any_value(share_covered) AS population_share_covered,
        count(*) AS cells_with_responses
    FROM covered
    GROUP BY ALL
),
unweighted AS (
    SELECT
        windows.window_type, windows.window_start, windows.window_end,
        coalesce(sum(window_cells.responses), 0) AS responses,
        coalesce(sum(window_cells.promoters), 0) AS promoters,
        coalesce(sum(window_cells.detractors), 0) AS detractors,
        coalesce(sum(window_cells.responses) FILTER (WHERE window_cells.share IS NULL OR window_cells.share = 0), 0)
            AS responses_outside_population
    FROM windows
    LEFT JOIN window_cells USING (window_type, window_start, window_end)
    GROUP BY ALL
)
SELECT
    unweighted.window_type,
    unweighted.window_start,
    unweighted.window_end,
    CAST(unweighted.responses AS BIGINT) AS responses,
    nps_score(unweighted.promoters, unweighted.detractors, unweighted.responses) AS nps,
    nps_adjusted_wald_bound(unweighted.promoters, unweighted.detractors, unweighted.responses, -1) AS nps_ci_low,
    nps_adjusted_wald_bound(unweighted.promoters, unweighted.detractors, unweighted.responses, 1) AS nps_ci_high,
    CAST(coalesce(weighted.responses_weighted, 0) AS BIGINT) AS responses_weighted,
    CAST(unweighted.responses_outside_population AS BIGINT) AS responses_outside_population,
    100.0 * (weighted.promoter_share - weighted.detractor_share) AS weighted_nps,
    nps_adjusted_wald_bound(
        weighted.promoter_share * weighted.effective_sample_size,
        weighted.detractor_share * weighted.effective_sample_size,
        weighted.effective_sample_size, -1) AS weighted_ci_low,
    nps_adjusted_wald_bound(
        weighted.promoter_share * weighted.effective_sample_size,
        weighted.detractor_share * weighted.effective_sample_size,
        weighted.effective_sample_size, 1) AS weighted_ci_high,
    nps_margin_of_error(
        weighted.promoter_share * weighted.effective_sample_size,
        weighted.detractor_share * weighted.effective_sample_size,
        weighted.effective_sample_size) AS weighted_margin_of_error,
    weighted.effective_sample_size,
    weighted.responses_weighted / weighted.effective_sample_size AS design_effect,
    weighted.population_share_covered,
    CAST(coalesce(weighted.cells_with_responses, 0) AS BIGINT) AS strata_cells_with_responses,
    CAST((SELECT count(*) FROM population WHERE share > 0) - coalesce(weighted.cells_with_responses, 0) AS BIGINT)
        AS strata_cells_without_responses,
    CAST($strata_label AS VARCHAR) AS strata,
    CAST($population_version AS VARCHAR) AS population_version,
    coalesce(weighted.effective_sample_size, 0) < $low_sample_threshold AS low_sample
FROM unweighted
LEFT JOIN weighted USING (window_type, window_start, window_end)
ORDER BY window_end, window_type
