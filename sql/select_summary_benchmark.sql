-- Select the latest trailing-28-day comparison with the most recent benchmark, for the command line's summary.
SELECT statement, comparison
FROM nps_benchmark_comparison
WHERE window_type = 'trailing_28d' AND latest_benchmark
ORDER BY window_end DESC
LIMIT 1
