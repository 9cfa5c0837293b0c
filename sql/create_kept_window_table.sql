-- Keep, for the run's chunk of days, the kept version of every response_id staged in it (temp table kept_window).
CREATE OR REPLACE TEMP TABLE kept_window AS
SELECT * FROM kept_versions($all_files, $window_files, $first_day, $last_day)
