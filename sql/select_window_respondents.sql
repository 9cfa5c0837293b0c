-- Select the distinct respondent keys of the window's responses (whose contacted cases may have a new next response).
SELECT DISTINCT respondent_key
FROM read_parquet($files, union_by_name = true)
WHERE respondent_key IS NOT NULL
