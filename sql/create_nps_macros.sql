-- Define the NPS scalar macros (score, adjusted-Wald bounds, margin, change test, weighted interval) used by every aggregate.
CREATE OR REPLACE MACRO nps_score(promoters, detractors, responses) AS
    CASE WHEN responses > 0
        THEN 100.0 * (promoters - detractors) / responses END;

-- Adjusted-Wald shares (Rocks 2016; Lewis and Sauro): add 3/4 of a response to promoters and to detractors, 3 to n.
-- n may be fractional (Kish's effective sample size of a weighted sample).
CREATE OR REPLACE MACRO nps_adjusted_shares(promoters, detractors, responses) AS {
    'p': (promoters + 0.75) / (responses + 3.0),
    'd': (detractors + 0.75) / (responses + 3.0),
    'n': responses + 3.0
};

-- Adjusted NPS on the -1..1 scale.
CREATE OR REPLACE MACRO nps_adjusted(promoters, detractors, responses) AS
    nps_adjusted_shares(promoters, detractors, responses).p - nps_adjusted_shares(promoters, detractors, responses).d;

-- Variance of the adjusted NPS estimate: Var' / n' (per-response variance p' + d' - (p' - d')^2, over n').
CREATE OR REPLACE MACRO nps_adjusted_variance(promoters, detractors, responses) AS
    (nps_adjusted_shares(promoters, detractors, responses).p
     + nps_adjusted_shares(promoters, detractors, responses).d
     - pow(nps_adjusted(promoters, detractors, responses), 2))
    / nps_adjusted_shares(promoters, detractors, responses).n;

-- Half-width of the 95 % adjusted-Wald interval in NPS points, before clipping to [-100, 100].
CREATE OR REPLACE MACRO nps_margin_of_error(promoters, detractors, responses) AS
    CASE WHEN responses > 0
        THEN 100.0 * 1.959963984540054::DOUBLE * sqrt(nps_adjusted_variance(promoters, detractors, responses)) END;

CREATE OR REPLACE MACRO nps_adjusted_wald_bound(promoters, detractors, responses, direction) AS
    CASE WHEN responses > 0 THEN
        greatest(-100.0, least(100.0,
            100.0 * nps_adjusted(promoters, detractors, responses)
            + direction * nps_margin_of_error(promoters, detractors, responses)))
    END;

-- Responses needed for a 95 % margin of `margin_points` NPS points at per-response variance `variance`: z^2 Var / E^2 - 3.
CREATE OR REPLACE MACRO nps_required_sample_size(variance, margin_points) AS
    CAST(ceil(pow(1.959963984540054::DOUBLE, 2) * variance / pow(margin_points / 100.0, 2) - 3) AS BIGINT);

-- Two-sided p-value of a standard normal z: 2 (1 - Phi(|z|)), Abramowitz and Stegun 26.2.17 (|error| < 7.5e-8).
CREATE OR REPLACE MACRO normal_two_sided_p(z) AS
    2.0 * exp(-0.5 * z * z) / sqrt(2.0 * pi()) * (
        0.319381530 * (1.0 / (1.0 + 0.2316419 * abs(z)))
        - 0.356563782 * pow(1.0 / (1.0 + 0.2316419 * abs(z)), 2)
        + 1.781477937 * pow(1.0 / (1.0 + 0.2316419 * abs(z)), 3)
        - 1.821255978 * pow(1.0 / (1.0 + 0.2316419 * abs(z)), 4)
        + 1.330274429 * pow(1.0 / (1.0 + 0.2316419 * abs(z)), 5));

-- z of the change between two non-overlapping samples: (NPS'1 - NPS'2) / sqrt(Var'1/n'1 + Var'2/n'2) (MeasuringU).
CREATE OR REPLACE MACRO nps_change_z(promoters, detractors, responses, previous_promoters, previous_detractors, previous_responses) AS
    CASE WHEN responses > 0 AND previous_responses > 0 THEN
        (nps_adjusted(promoters, detractors, responses)
         - nps_adjusted(previous_promoters, previous_detractors, previous_responses))
        / sqrt(nps_adjusted_variance(promoters, detractors, responses)
               + nps_adjusted_variance(previous_promoters, previous_detractors, previous_responses))
    END;

-- Display order of the kinds of window: trailing 7/28/90 days, then week, month, quarter.
CREATE OR REPLACE MACRO nps_window_order(window_type) AS
    list_position(['trailing_7d', 'trailing_28d', 'trailing_90d', 'week', 'month', 'quarter'], window_type);

-- Promoters, passives and detractors per day, dimension and segment, summed from score-count files.
CREATE OR REPLACE MACRO nps_category_counts(files) AS TABLE
SELECT
    response_date,
    dimension,
    segment,
    sum(responses) AS responses,
    coalesce(sum(responses) FILTER (WHERE score >= 9), 0) AS promoters,
    coalesce(sum(responses) FILTER (WHERE score BETWEEN 7 AND 8), 0) AS passives,
    coalesce(sum(responses) FILTER (WHERE score <= 6), 0) AS detractors
FROM read_parquet(files, union_by_name = true)
GROUP BY response_date, dimension, segment;

-- Every window ending in [range_start, range_end]: trailing 7/28/90 days ending on a materialised day of
-- `spine`, and calendar weeks (ISO, Monday first), months and quarters holding a materialised day; each with
-- the window right before it, of the same kind and length, that shares no day with it.
CREATE OR REPLACE MACRO nps_window_definitions(spine, range_start, range_end) AS TABLE
WITH days AS (
    SELECT DISTINCT CAST(day AS DATE) AS day FROM unnest(CAST(spine AS DATE[])) AS t(day)
),
trailing_windows AS (
    SELECT
        'trailing_' || span || 'd' AS window_type,
        day - (span - 1) AS window_start,
        day AS window_end,
        day - (2 * span - 1) AS previous_start,
        day - span AS previous_end
    FROM days, (VALUES (7), (28), (90)) AS spans(span)
    WHERE day BETWEEN range_start AND range_end
),
periods AS (
    SELECT DISTINCT
        period AS window_type,
        CAST(date_trunc(period, day) AS DATE) AS window_start,
        CAST(date_trunc(period, day)
            + CASE period WHEN 'week' THEN INTERVAL 7 DAY WHEN 'month' THEN INTERVAL 1 MONTH ELSE INTERVAL 3 MONTH END
            AS DATE) - 1 AS window_end
    FROM days, (VALUES ('week'), ('month'), ('quarter')) AS kinds(period)
),
calendar_windows AS (
    SELECT
        window_type,
        window_start,
        window_end,
        CAST(window_start
            - CASE window_type WHEN 'week' THEN INTERVAL 7 DAY WHEN 'month' THEN INTERVAL 1 MONTH ELSE INTERVAL 3 MONTH END
            AS DATE) AS previous_start,
        window_start - 1 AS previous_end
    FROM periods
    WHERE window_end BETWEEN range_start AND range_end
)
SELECT * FROM trailing_windows
UNION ALL
SELECT * FROM calendar_windows;
