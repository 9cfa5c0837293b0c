-- Keep, from the kept-versions index, the response_ids staged in the run's days (temp table kept_window).
CREATE OR REPLACE TEMP TABLE kept_window AS
SELECT kept.*
FROM read_parquet($kept_versions) AS kept
SEMI JOIN (
    SELECT response_id
    FROM read_parquet($window_files, union_by_name = true)
    WHERE response_date BETWEEN $first_day AND $last_day
) AS staged USING (response_id)
