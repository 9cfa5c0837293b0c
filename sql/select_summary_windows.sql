-- Select the overall trailing-28-day, month and quarter windows ending last on or before the last materialised day, with their change, for the command line's summary.
SELECT
    window_type, window_start, window_end, responses, round(nps, 1), round(nps_ci_low, 1), round(nps_ci_high, 1),
    round(nps_change, 1), round(change_p_value, 3), significant_change
FROM nps_windows
WHERE dimension = 'overall' AND window_type IN ('trailing_28d', 'month', 'quarter')
    AND window_end <= (SELECT max(response_date) FROM nps_daily)
QUALIFY row_number() OVER (PARTITION BY window_type ORDER BY window_end DESC) = 1
ORDER BY nps_window_order(window_type)
