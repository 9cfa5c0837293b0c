-- Select the last seven days of nps_daily, rounded for the command line's summary.
SELECT response_date, responses, round(nps, 1) AS nps, round(nps_ci_low, 1) AS low, round(nps_ci_high, 1) AS high
FROM nps_daily
ORDER BY response_date DESC
LIMIT 7
