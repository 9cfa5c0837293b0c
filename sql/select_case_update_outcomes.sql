-- Select each pending status update with its outcome: applied in order per case from the case's current state, each row judged against the state the rows before it left (invalid rows leave it unchanged).
WITH RECURSIVE steps AS (
    SELECT
        state.case_id, 0::BIGINT AS seq, state.status, state.owner, state.contacted_at, state.resolved_at,
        state.root_cause, state.note, state.opened_at,
        NULL::VARCHAR AS problem, NULL::VARCHAR AS status_from
    FROM case_state AS state
    WHERE state.case_id IN (SELECT case_id FROM pending_updates)
    UNION ALL
    SELECT
        steps.case_id,
        u.seq,
        CASE WHEN judged.problem IS NULL THEN u.status ELSE steps.status END,
        CASE WHEN judged.problem IS NULL THEN coalesce(u.owner, steps.owner) ELSE steps.owner END,
        CASE WHEN judged.problem IS NULL THEN coalesce(steps.contacted_at, u.contacted_at) ELSE steps.contacted_at END,
        CASE
            WHEN judged.problem IS NOT NULL THEN steps.resolved_at
            WHEN u.status IN ('resolved', 'closed') THEN u.resolved_at
            WHEN u.status = 'open' THEN NULL
            ELSE steps.resolved_at
        END,
        CASE WHEN judged.problem IS NULL THEN coalesce(u.root_cause, steps.root_cause) ELSE steps.root_cause END,
        CASE WHEN judged.problem IS NULL THEN coalesce(u.note, steps.note) ELSE steps.note END,
        steps.opened_at,
        judged.problem,
        steps.status
    FROM steps
    JOIN pending_updates AS u ON u.case_id = steps.case_id AND u.seq = steps.seq + 1
    CROSS JOIN LATERAL (
        SELECT CASE
            WHEN u.status <> steps.status
                AND NOT list_contains(
                    CASE steps.status
                        WHEN 'open' THEN ['contacted', 'in_progress', 'resolved', 'closed']
                        WHEN 'contacted' THEN ['in_progress', 'resolved', 'closed']
                        WHEN 'in_progress' THEN ['contacted', 'resolved', 'closed']
                        WHEN 'resolved' THEN ['open', 'closed']
                        WHEN 'closed' THEN ['open']
                        ELSE []
                    END, u.status)
                THEN 'cannot go from ' || steps.status || ' to ' || u.status
            WHEN u.status IN ('contacted', 'in_progress', 'resolved') AND coalesce(steps.contacted_at, u.contacted_at) IS NULL
                THEN 'status ' || u.status || ' needs contacted_at (the first contact with the customer)'
            WHEN u.contacted_at < steps.opened_at
                THEN 'contacted_at ' || strftime(u.contacted_at, '%Y-%m-%d %H:%M UTC') || ' is before the case opened (' || strftime(steps.opened_at, '%Y-%m-%d %H:%M UTC') || ')'
            WHEN u.status IN ('resolved', 'closed') AND u.resolved_at IS NULL
                THEN 'status ' || u.status || ' needs resolved_at'
            WHEN u.status IN ('resolved', 'closed') AND u.resolved_at < coalesce(steps.contacted_at, u.contacted_at, steps.opened_at)
                THEN 'resolved_at ' || strftime(u.resolved_at, '%Y-%m-%d %H:%M UTC') || ' is before the first contact or the opening'
            WHEN u.status = 'resolved' AND coalesce(u.root_cause, steps.root_cause) IS NULL
                THEN 'status resolved needs a root_cause'
            WHEN u.status = 'closed' AND coalesce(u.root_cause, u.note) IS NULL
                THEN 'status closed needs a root_cause or a note saying why'
        END AS problem
    ) AS judged
)
SELECT
    u.*,
    steps.status_from,
    steps.problem IS NULL AS accepted,
    steps.problem AS reason,
    steps.status AS state_status,
    steps.owner AS state_owner,
    steps.contacted_at AS state_contacted_at,
    steps.resolved_at AS state_resolved_at,
    steps.root_cause AS state_root_cause,
    steps.note AS state_note
FROM pending_updates AS u
JOIN steps ON steps.case_id = u.case_id AND steps.seq = u.seq
ORDER BY u.order_key
