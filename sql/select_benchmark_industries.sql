-- Select the distinct industries of a published industry_benchmarks file.
SELECT DISTINCT industry FROM read_parquet($file) ORDER BY industry
