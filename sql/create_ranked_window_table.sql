-- Rank the staged rows of the run's days once (temp table ranked_window) for the responses and duplicates selects.
CREATE OR REPLACE TEMP TABLE ranked_window AS
SELECT * FROM ranked_staged($files)
