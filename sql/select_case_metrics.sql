-- Select close-the-loop metrics per day and ISO week (of a case's opening; overdue counted at each period's end), per owner and for all: SLA share, median time to first contact, overdue open cases at the period's end, and improved next scores.
WITH measured AS (
    SELECT * FROM cases WHERE status <> 'withdrawn'
),
periods AS (
    SELECT 'day' AS period_type, opened_date AS period_start, opened_date + 1 AS period_end, * FROM measured
    UNION ALL
    SELECT 'week', CAST(date_trunc('week', opened_date) AS DATE), CAST(date_trunc('week', opened_date) AS DATE) + 7, * FROM measured
),
owners AS (
    SELECT DISTINCT owner FROM measured UNION ALL SELECT NULL
),
spine AS (
    -- Every day and week from the first opening to the as-of day, so overdue cases show on days without openings.
    SELECT 'day' AS period_type, CAST(d AS DATE) AS period_start, CAST(d AS DATE) + 1 AS period_end
    FROM range((SELECT min(opened_date) FROM measured), CAST(timezone($timezone, $as_of) AS DATE) + 1, INTERVAL 1 DAY) AS t(d)
    UNION ALL
    SELECT 'week', CAST(w AS DATE), CAST(w AS DATE) + 7
    FROM range(date_trunc('week', (SELECT min(opened_date) FROM measured)), CAST(timezone($timezone, $as_of) AS DATE) + 1, INTERVAL 7 DAY) AS t(w)
),
grid AS (
    SELECT spine.*, coalesce(owners.owner, 'all') AS owner FROM spine CROSS JOIN owners
),
opened AS (
    SELECT
        period_type,
        period_start,
        coalesce(owner, 'all') AS owner,
        count(*) AS cases_opened,
        count(contacted_at) AS cases_contacted,
        count(*) FILTER (WHERE contacted_within_sla) AS contacted_within_sla,
        count(*) FILTER (WHERE contacted_at IS NOT NULL OR due_at <= $as_of) AS sla_decided,
        quantile_cont(hours_to_first_contact, 0.5) AS median_hours_to_first_contact,
        count(next_response_id) AS followed_up_with_next_response,
        count(*) FILTER (WHERE improved) AS improved
    FROM periods
    GROUP BY GROUPING SETS ((period_type, period_start, owner), (period_type, period_start))
),
flows AS (
    SELECT
        grid.period_type, grid.period_start, grid.owner, grid.period_end,
        coalesce(opened.cases_opened, 0) AS cases_opened,
        coalesce(opened.cases_contacted, 0) AS cases_contacted,
        coalesce(opened.contacted_within_sla, 0) AS contacted_within_sla,
        coalesce(opened.sla_decided, 0) AS sla_decided,
        opened.median_hours_to_first_contact,
        coalesce(opened.followed_up_with_next_response, 0) AS followed_up_with_next_response,
        coalesce(opened.improved, 0) AS improved
    FROM grid
    LEFT JOIN opened USING (period_type, period_start, owner)
),
overdue_changes AS (
    -- A case is overdue from its due time until its first contact or its closing, whichever comes
    -- first: +1 on the local day it falls due, -1 on the day that ends it. Counted by day, not by
    -- case, so the cost follows the number of days, not of cases.
    SELECT owner, CAST(timezone($timezone, due_at) AS DATE) AS day, 1 AS change
    FROM measured
    WHERE coalesce(contacted_at, resolved_at, 'infinity'::TIMESTAMPTZ) > due_at
    UNION ALL
    SELECT owner, CAST(timezone($timezone, coalesce(contacted_at, resolved_at)) AS DATE), -1
    FROM measured
    WHERE coalesce(contacted_at, resolved_at) > due_at
),
overdue_by_day AS (
    SELECT owner, day, sum(change) AS change FROM overdue_changes WHERE owner IS NOT NULL GROUP BY owner, day
    UNION ALL
    SELECT 'all', day, sum(change) FROM overdue_changes GROUP BY day
),
overdue AS (
    -- Overdue at a period's end (local midnight): every change on a day before it.
    SELECT flows.period_type, flows.period_start, flows.owner, coalesce(sum(overdue_by_day.change), 0) AS overdue_open_cases
    FROM flows
    LEFT JOIN overdue_by_day ON overdue_by_day.owner = flows.owner AND overdue_by_day.day < flows.period_end
    GROUP BY flows.period_type, flows.period_start, flows.owner
)
SELECT
    flows.period_type,
    flows.period_start,
    flows.owner,
    flows.cases_opened,
    flows.cases_contacted,
    flows.contacted_within_sla,
    flows.sla_decided,
    round(100.0 * flows.contacted_within_sla / nullif(flows.sla_decided, 0), 2) AS pct_contacted_within_sla,
    round(flows.median_hours_to_first_contact, 2) AS median_hours_to_first_contact,
    overdue.overdue_open_cases,
    flows.followed_up_with_next_response,
    flows.improved,
    round(100.0 * flows.improved / nullif(flows.followed_up_with_next_response, 0), 2) AS pct_improved,
    $as_of AS as_of
FROM flows
JOIN overdue USING (period_type, period_start, owner)
ORDER BY period_type, period_start, owner = 'all' DESC, owner
