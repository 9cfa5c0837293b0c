-- Select the first rejected rows of a quarantine file with their reasons, for a preview.
SELECT source_file, source_row, reasons FROM read_parquet($file) LIMIT 20
