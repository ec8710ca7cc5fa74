-- Keep in step with storage/migrations/sqlite/0014_handoff_facts.sql.
-- Insights (`insights`, handoff/insights.py): one row per handoff with what the figures read,
-- kept by storage/insights/facts.py in the same transaction as every change of the handoff
-- (SqlHandoffRepository.add and save) and deleted with it by the retention purge. The figures
-- then read a period's rows by index instead of replaying every handoff's JSON and events.
CREATE TABLE handoff_facts (
    handoff_id           text PRIMARY KEY REFERENCES handoffs (id),
    case_number          text NOT NULL,
    severity             text NOT NULL,
    is_24x7              integer NOT NULL,
    from_region          text NOT NULL,
    target_region        text NOT NULL,
    requested_at         timestamptz NOT NULL,
    -- The first accept (a handoff is accepted at most once: accepted is final).
    accepted_at          timestamptz,
    owner_id             text,
    seconds_to_accept    integer,
    -- Moves into back-to-queue and into more-info-needed, each counted once per move.
    back_to_queue_rounds integer NOT NULL DEFAULT 0,
    more_info_rounds     integer NOT NULL DEFAULT 0,
    state                text NOT NULL,
    -- 1 once the case was found or flagged long-running on this handoff.
    long_running         integer NOT NULL DEFAULT 0,
    updated_at           timestamptz NOT NULL
);

-- A period's rows ([since, until)), of all receiving regions or of one.
CREATE INDEX handoff_facts_by_requested ON handoff_facts (requested_at);
CREATE INDEX handoff_facts_by_region ON handoff_facts (target_region, requested_at);
-- Hops per case: a case's handoffs in order.
CREATE INDEX handoff_facts_by_case ON handoff_facts (case_number, requested_at);
-- Critical handoffs open without an owner, oldest first: few rows, whatever the table's size.
CREATE INDEX handoff_facts_critical_open ON handoff_facts (requested_at)
    WHERE severity = 'A' AND is_24x7 = 1 AND state NOT IN ('accepted', 'cancelled');
-- Notes refused by the quality check in a period (audit_log kind notes_refused).
CREATE INDEX audit_log_by_kind ON audit_log (kind, at);

-- The handoffs made before this migration, from their documents and their audit events. The
-- documents are read as json, not jsonb (jsonb refuses "\u0000", which free text may hold),
-- and no free-text field is turned into text.
INSERT INTO handoff_facts (
    handoff_id, case_number, severity, is_24x7, from_region, target_region, requested_at,
    accepted_at, owner_id, seconds_to_accept, back_to_queue_rounds, more_info_rounds, state,
    long_running, updated_at)
SELECT
    h.id,
    h.case_number,
    h.doc::json -> 'case' ->> 'severity',
    CASE WHEN (h.doc::json -> 'case' ->> 'is_24x7')::boolean THEN 1 ELSE 0 END,
    h.doc::json ->> 'from_region',
    h.target_region,
    h.created_at,
    accepted.at,
    h.owner_id,
    CAST(ROUND(EXTRACT(EPOCH FROM (accepted.at - h.created_at))) AS integer),
    (SELECT COUNT(*) FROM handoff_events AS e
     WHERE e.handoff_id = h.id
       AND e.doc::json ->> 'to_state' = 'back-to-queue'
       AND (e.doc::json ->> 'from_state') IS DISTINCT FROM 'back-to-queue'),
    (SELECT COUNT(*) FROM handoff_events AS e
     WHERE e.handoff_id = h.id
       AND e.doc::json ->> 'to_state' = 'more-info-needed'
       AND (e.doc::json ->> 'from_state') IS DISTINCT FROM 'more-info-needed'),
    h.state,
    CASE WHEN json_typeof(h.doc::json -> 'long_running') = 'string' THEN 1 ELSE 0 END,
    h.updated_at
FROM handoffs AS h
LEFT JOIN (
    SELECT handoff_id, MIN(at) AS at FROM handoff_events
    WHERE doc::json ->> 'to_state' = 'accepted'
      AND (doc::json ->> 'from_state') IS DISTINCT FROM 'accepted'
    GROUP BY handoff_id
) AS accepted ON accepted.handoff_id = h.id;
