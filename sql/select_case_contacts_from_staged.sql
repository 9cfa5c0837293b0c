-- Select the email, name and comment of the staged rows behind the case log's responses (once, when a warehouse moves to the case store).
SELECT staged.source_file, staged.source_row, staged.comment, staged.email, staged.respondent_name
FROM read_parquet($staged_files, union_by_name = true) AS staged
SEMI JOIN log_rows USING (source_file, source_row)
