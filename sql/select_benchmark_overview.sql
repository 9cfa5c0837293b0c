-- Select, for each kind of window at its last end on or before $last_end, the NPS beside the latest benchmark, for a summary.
SELECT
    window_type, window_end, responses, round(nps, 1) AS nps, industry, benchmark_nps,
    round(difference, 1) AS difference, comparison, benchmark_publisher, benchmark_year, benchmark_method
FROM read_parquet($files, union_by_name = true)
WHERE latest_benchmark AND window_end <= $last_end
QUALIFY row_number() OVER (PARTITION BY window_type ORDER BY window_end DESC) = 1
ORDER BY nps_window_order(window_type)
