-- Select the row accounting summed over every landed file: read = valid + duplicate + quarantined.
SELECT sum(rows_read), sum(rows_valid), sum(rows_duplicate), sum(rows_quarantined) FROM ingest_files
