-- Count the detractor responses of each day in the given responses day files.
SELECT response_date, count(*) AS detractors
FROM read_parquet($files, union_by_name = true)
WHERE category = 'detractor'
GROUP BY response_date
