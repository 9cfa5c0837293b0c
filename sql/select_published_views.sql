-- Select the names of the views a published nps.duckdb holds.
SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY view_name
