-- Keep in step with storage/migrations/postgresql/0014_handoff_facts.sql.
-- Insights (`insights`, handoff/insights.py): one row per handoff with what the figures read,
-- kept by storage/insights/facts.py in the same transaction as every change of the handoff
-- (SqlHandoffRepository.add and save) and deleted with it by the retention purge. The figures
-- then read a period's rows by index instead of replaying every handoff's JSON and events.
CREATE TABLE handoff_facts (
    handoff_id           TEXT PRIMARY KEY REFERENCES handoffs (id),
    case_number          TEXT NOT NULL,
    severity             TEXT NOT NULL,
    is_24x7              INTEGER NOT NULL,
    from_region          TEXT NOT NULL,
    target_region        TEXT NOT NULL,
    requested_at         TIMESTAMP_TEXT NOT NULL,
    -- The first accept (a handoff is accepted at most once: accepted is final).
    accepted_at          TIMESTAMP_TEXT,
    owner_id             TEXT,
    seconds_to_accept    INTEGER,
    -- Moves into back-to-queue and into more-info-needed, each counted once per move.
    back_to_queue_rounds INTEGER NOT NULL DEFAULT 0,
    more_info_rounds     INTEGER NOT NULL DEFAULT 0,
    state                TEXT NOT NULL,
    -- 1 once the case was found or flagged long-running on this handoff.
    long_running         INTEGER NOT NULL DEFAULT 0,
    updated_at           TIMESTAMP_TEXT NOT NULL
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

-- The handoffs made before this migration, from their documents and their audit events.
INSERT INTO handoff_facts (
    handoff_id, case_number, severity, is_24x7, from_region, target_region, requested_at,
    accepted_at, owner_id, seconds_to_accept, back_to_queue_rounds, more_info_rounds, state,
    long_running, updated_at)
SELECT
    h.id,
    h.case_number,
    json_extract(h.doc, '$.case.severity'),
    CASE WHEN json_extract(h.doc, '$.case.is_24x7') THEN 1 ELSE 0 END,
    json_extract(h.doc, '$.from_region'),
    h.target_region,
    h.created_at,
    accepted.at,
    h.owner_id,
    CAST(ROUND((julianday(accepted.at) - julianday(h.created_at)) * 86400) AS INTEGER),
    (SELECT COUNT(*) FROM handoff_events AS e
     WHERE e.handoff_id = h.id
       AND json_extract(e.doc, '$.to_state') = 'back-to-queue'
       AND json_extract(e.doc, '$.from_state') IS NOT 'back-to-queue'),
    (SELECT COUNT(*) FROM handoff_events AS e
     WHERE e.handoff_id = h.id
       AND json_extract(e.doc, '$.to_state') = 'more-info-needed'
       AND json_extract(e.doc, '$.from_state') IS NOT 'more-info-needed'),
    h.state,
    CASE WHEN json_type(h.doc, '$.long_running') = 'text' THEN 1 ELSE 0 END,
    h.updated_at
FROM handoffs AS h
LEFT JOIN (
    SELECT handoff_id, MIN(at) AS at FROM handoff_events
    WHERE json_extract(doc, '$.to_state') = 'accepted'
      AND json_extract(doc, '$.from_state') IS NOT 'accepted'
    GROUP BY handoff_id
) AS accepted ON accepted.handoff_id = h.id;
