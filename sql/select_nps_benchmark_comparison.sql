-- Select each overall window's NPS beside every published benchmark of the configured $industry, with the benchmark's year, method and provenance, and whether the benchmark lies outside the window's 95 % interval.
WITH benchmarks AS (
    SELECT
        *,
        row_number() OVER (ORDER BY coalesce(fieldwork, published) DESC NULLS LAST, publisher) = 1 AS latest_benchmark
    FROM read_parquet($benchmarks)
    WHERE lower(trim(industry)) = lower(trim($industry))
)
SELECT
    w.window_type,
    w.window_start,
    w.window_end,
    w.complete,
    w.responses,
    w.nps,
    w.nps_ci_low,
    w.nps_ci_high,
    w.low_sample,
    b.industry,
    b.nps AS benchmark_nps,
    w.nps - b.nps AS difference,
    CASE
        WHEN w.nps IS NULL THEN NULL
        WHEN b.nps < w.nps_ci_low THEN 'above benchmark'
        WHEN b.nps > w.nps_ci_high THEN 'below benchmark'
        ELSE 'within the 95 % interval'
    END AS comparison,
    b.publisher AS benchmark_publisher,
    b.study AS benchmark_study,
    b.published AS benchmark_published,
    b.fieldwork AS benchmark_year,
    b.region AS benchmark_region,
    b.segment AS benchmark_segment,
    b.method AS benchmark_method,
    b.n_respondents AS benchmark_respondents,
    b.n_companies AS benchmark_companies,
    b.provenance AS benchmark_provenance,
    b.latest_benchmark,
    printf(
        'NPS %.1f [%.1f, %.1f] vs %s %.1f: %s, %s (fieldwork %s, %s region, %s)',
        w.nps, w.nps_ci_low, w.nps_ci_high, b.industry, b.nps, b.publisher, b.study,
        coalesce(b.fieldwork, b.published, 'year not stated'), b.region, b.method
    ) AS statement
FROM read_parquet($windows, union_by_name = true) AS w
CROSS JOIN benchmarks AS b
WHERE w.dimension = 'overall'
ORDER BY w.window_end, w.window_type, b.latest_benchmark DESC, b.publisher
