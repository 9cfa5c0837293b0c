-- Select, per day, language ('all' and each) and theme, the responses that mention the theme against those that do not (all of them, and only those with a comment) and against all responses: volume, share of comments, and the NPS of each group with adjusted-Wald bounds.
WITH day_responses AS (
    SELECT response_id, response_date, category, coalesce(language, 'unknown') AS language, comment IS NOT NULL AS commented, themes
    FROM read_parquet($files, union_by_name = true)
    WHERE response_date BETWEEN $first_day AND $last_day
),
themes AS (
    SELECT DISTINCT unnest(themes) AS theme FROM day_responses
    UNION
    SELECT unnest($lexicon_themes::VARCHAR[])
),
totals AS (
    SELECT
        response_date, coalesce(language, 'all') AS language,
        count(*) AS responses,
        count(*) FILTER (WHERE commented) AS comments,
        count(*) FILTER (WHERE category = 'promoter') AS promoters,
        count(*) FILTER (WHERE category = 'passive') AS passives,
        count(*) FILTER (WHERE category = 'detractor') AS detractors,
        count(*) FILTER (WHERE commented AND category = 'promoter') AS commenting_promoters,
        count(*) FILTER (WHERE commented AND category = 'passive') AS commenting_passives,
        count(*) FILTER (WHERE commented AND category = 'detractor') AS commenting_detractors
    FROM day_responses
    GROUP BY GROUPING SETS ((response_date), (response_date, language))
),
mentions AS (
    SELECT
        response_date, coalesce(language, 'all') AS language, theme,
        count(*) AS mentions,
        count(*) FILTER (WHERE category = 'promoter') AS promoters,
        count(*) FILTER (WHERE category = 'passive') AS passives,
        count(*) FILTER (WHERE category = 'detractor') AS detractors
    FROM (SELECT response_date, language, category, unnest(themes) AS theme FROM day_responses)
    GROUP BY GROUPING SETS ((response_date, theme), (response_date, language, theme))
),
grid AS (
    SELECT totals.*, themes.theme FROM totals CROSS JOIN themes
),
counted AS (
    SELECT
        grid.response_date, grid.language, grid.theme, grid.responses, grid.comments,
        coalesce(mentions.mentions, 0) AS mentions,
        coalesce(mentions.promoters, 0) AS promoters_mentioning,
        coalesce(mentions.passives, 0) AS passives_mentioning,
        coalesce(mentions.detractors, 0) AS detractors_mentioning,
        grid.promoters - coalesce(mentions.promoters, 0) AS promoters_not_mentioning,
        grid.passives - coalesce(mentions.passives, 0) AS passives_not_mentioning,
        grid.detractors - coalesce(mentions.detractors, 0) AS detractors_not_mentioning,
        grid.commenting_promoters - coalesce(mentions.promoters, 0) AS commenting_promoters_not_mentioning,
        grid.commenting_passives - coalesce(mentions.passives, 0) AS commenting_passives_not_mentioning,
        grid.commenting_detractors - coalesce(mentions.detractors, 0) AS commenting_detractors_not_mentioning,
        grid.promoters AS all_promoters,
        grid.detractors AS all_detractors
    FROM grid
    LEFT JOIN mentions USING (response_date, language, theme)
)
SELECT
    response_date, language, theme, responses, comments, mentions,
    round(100.0 * mentions / nullif(comments, 0), 2) AS pct_of_comments,
    promoters_mentioning, passives_mentioning, detractors_mentioning,
    nps_score(promoters_mentioning, detractors_mentioning, mentions) AS nps_mentioning,
    nps_adjusted_wald_bound(promoters_mentioning, detractors_mentioning, mentions, -1) AS nps_mentioning_ci_low,
    nps_adjusted_wald_bound(promoters_mentioning, detractors_mentioning, mentions, 1) AS nps_mentioning_ci_high,
    responses - mentions AS responses_not_mentioning,
    promoters_not_mentioning, passives_not_mentioning, detractors_not_mentioning,
    nps_score(promoters_not_mentioning, detractors_not_mentioning, responses - mentions) AS nps_not_mentioning,
    nps_adjusted_wald_bound(promoters_not_mentioning, detractors_not_mentioning, responses - mentions, -1) AS nps_not_mentioning_ci_low,
    nps_adjusted_wald_bound(promoters_not_mentioning, detractors_not_mentioning, responses - mentions, 1) AS nps_not_mentioning_ci_high,
    nps_score(promoters_mentioning, detractors_mentioning, mentions)
        - nps_score(promoters_not_mentioning, detractors_not_mentioning, responses - mentions) AS nps_gap,
    -- Against commenters who do not mention the theme: the same denominator as pct_of_comments.
    comments - mentions AS commenters_not_mentioning,
    commenting_promoters_not_mentioning, commenting_passives_not_mentioning, commenting_detractors_not_mentioning,
    nps_score(commenting_promoters_not_mentioning, commenting_detractors_not_mentioning, comments - mentions) AS nps_commenters_not_mentioning,
    nps_adjusted_wald_bound(commenting_promoters_not_mentioning, commenting_detractors_not_mentioning, comments - mentions, -1) AS nps_commenters_not_mentioning_ci_low,
    nps_adjusted_wald_bound(commenting_promoters_not_mentioning, commenting_detractors_not_mentioning, comments - mentions, 1) AS nps_commenters_not_mentioning_ci_high,
    nps_score(promoters_mentioning, detractors_mentioning, mentions)
        - nps_score(commenting_promoters_not_mentioning, commenting_detractors_not_mentioning, comments - mentions) AS nps_gap_vs_commenters_not_mentioning,
    -- Against every response of the day and language, whether it comments or not.
    nps_score(all_promoters, all_detractors, responses) AS nps_all_responses,
    nps_score(promoters_mentioning, detractors_mentioning, mentions) - nps_score(all_promoters, all_detractors, responses) AS nps_gap_vs_all_responses
FROM counted
WHERE mentions > 0 OR language = 'all'
ORDER BY response_date, language = 'all' DESC, language, theme
