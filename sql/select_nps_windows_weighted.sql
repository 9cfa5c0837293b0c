-- Select overall NPS per window, unweighted and weighted by the per-response weights of each respondent cell (relations window_cells and cell_weights), with Kish's effective sample size in the weighted interval.
WITH cells AS (
    SELECT window_cells.*, cell_weights.weight, cell_weights.share_covered
    FROM window_cells
    LEFT JOIN cell_weights USING (window_type, window_start, window_end, cell)
),
weighted AS (
    -- Ordered sums: floating-point sums in a fixed order give the same figures on every re-run.
    SELECT
        window_type, window_start, window_end,
        sum(weight * promoters ORDER BY cell) / sum(weight * responses ORDER BY cell) AS promoter_share,
        sum(weight * detractors ORDER BY cell) / sum(weight * responses ORDER BY cell) AS detractor_share,
        pow(sum(weight * responses ORDER BY cell), 2) / sum(weight * weight * responses ORDER BY cell) AS effective_sample_size,
        sum(responses) AS responses_weighted,
        any_value(share_covered) AS population_share_covered,
        count(*) AS cells_with_responses
    FROM cells
    WHERE weight IS NOT NULL AND responses > 0
    GROUP BY window_type, window_start, window_end
),
unweighted AS (
    SELECT
        window_type, window_start, window_end,
        sum(responses) AS responses,
        sum(promoters) AS promoters,
        sum(detractors) AS detractors,
        coalesce(sum(responses) FILTER (WHERE weight IS NULL), 0) AS responses_outside_population
    FROM cells
    GROUP BY window_type, window_start, window_end
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
    CAST(CASE WHEN $method = 'cells' THEN $population_cells - coalesce(weighted.cells_with_responses, 0) END AS BIGINT)
        AS strata_cells_without_responses,
    CAST($strata_label AS VARCHAR) AS strata,
    CAST($method AS VARCHAR) AS weighting_method,
    CAST($population_version AS VARCHAR) AS population_version,
    coalesce(weighted.effective_sample_size, 0) < $low_sample_threshold AS low_sample
FROM unweighted
LEFT JOIN weighted USING (window_type, window_start, window_end)
ORDER BY window_end, window_type
