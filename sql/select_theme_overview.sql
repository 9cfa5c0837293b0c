-- Select each theme's mentions over the files' days (all languages) with the NPS of responses that mention it against those that do not.
SELECT
    theme,
    sum(mentions) AS mentions,
    round(100.0 * sum(mentions) / nullif(sum(comments), 0), 1) AS pct_of_comments,
    round(nps_score(sum(promoters_mentioning), sum(detractors_mentioning), sum(mentions)), 1) AS nps_mentioning,
    round(nps_score(sum(promoters_not_mentioning), sum(detractors_not_mentioning), sum(responses_not_mentioning)), 1) AS nps_not_mentioning
FROM read_parquet($files, union_by_name = true)
WHERE language = 'all'
GROUP BY theme
ORDER BY mentions DESC, theme
