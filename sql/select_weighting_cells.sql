-- Select each window's respondent cells with responses, promoters and detractors, summed from the daily cells files given, for windows ending in [$range_start, $range_end]; a window without responses has one row with no cell.
WITH windows AS (
    SELECT * FROM nps_window_definitions($spine, $range_start, $range_end)
),
cells_daily AS (
    SELECT response_date, cell_values, responses, promoters, detractors
    FROM read_parquet($files, union_by_name = true)
)
SELECT
    windows.window_type,
    windows.window_start,
    windows.window_end,
    array_to_string(cells_daily.cell_values, chr(31)) AS cell,
    any_value(cells_daily.cell_values) AS cell_values,
    CAST(coalesce(sum(cells_daily.responses), 0) AS BIGINT) AS responses,
    CAST(coalesce(sum(cells_daily.promoters), 0) AS BIGINT) AS promoters,
    CAST(coalesce(sum(cells_daily.detractors), 0) AS BIGINT) AS detractors
FROM windows
LEFT JOIN cells_daily ON cells_daily.response_date BETWEEN windows.window_start AND windows.window_end
GROUP BY windows.window_type, windows.window_start, windows.window_end, array_to_string(cells_daily.cell_values, chr(31))
