-- Select the number of detractor follow-up cases per priority in the files given.
SELECT priority, count(*) AS cases FROM read_parquet($files, union_by_name = true) GROUP BY priority ORDER BY priority
