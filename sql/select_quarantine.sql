-- Select every rejected row of every staged file, in file and row order, for the quarantine table.
SELECT source_file, source_row, reasons, raw_record, source_format, ingested_at
FROM read_parquet($files, union_by_name = true)
ORDER BY source_file, source_row
