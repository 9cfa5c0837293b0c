-- Count the staged rows of a day range superseded by another version of their response_id.
SELECT count(*)::BIGINT
FROM read_parquet($superseded)
WHERE response_date BETWEEN $first_day AND $last_day
