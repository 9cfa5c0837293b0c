-- Count the rows of the table or view named by $table.
SELECT count(*) FROM query_table($table)
