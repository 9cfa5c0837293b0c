-- Select the first rejected rows of the quarantine files given, with their reasons, for a preview.
SELECT source_file, source_row, reasons
FROM read_parquet($files, union_by_name = true)
ORDER BY source_file, source_row
LIMIT 20
