-- Select the key values (the columns named in $keys) that more than one row of the Parquet files holds, with how many rows, the first $limit in key order.
SELECT COLUMNS(lambda c: list_contains($keys, c)), count(*) AS rows
FROM read_parquet($files, union_by_name = true)
GROUP BY ALL
HAVING count(*) > 1
ORDER BY ALL
LIMIT $limit
