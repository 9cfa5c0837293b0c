-- Define ranked_staged(files): every staged valid row with its version rank per response_id (1 = the version kept).
CREATE OR REPLACE MACRO ranked_staged(files) AS TABLE
    SELECT
        staged.*,
        row_number() OVER latest_first AS version_rank,
        first_value(source_file) OVER latest_first AS kept_source_file,
        first_value(source_row) OVER latest_first AS kept_source_row,
        first_value(score) OVER latest_first AS kept_score
    FROM read_parquet(files, union_by_name = true) AS staged
    WINDOW latest_first AS (
        PARTITION BY response_id
        ORDER BY file_order DESC, source_file DESC, source_row DESC
    );
