-- Keep in step with storage/migrations/postgresql/0012_retention.sql.
-- Retention (docs/retention.md): once a day the outbox worker deletes closed cases, finished
-- outbox items and delivery keys older than RETENTION_DAYS, and audit log entries older than
-- AUDIT_RETENTION_DAYS, a few hundred rows per transaction. The indexes below let each batch
-- find its rows without walking the whole table; each names its query.

-- purge_closed_cases (storage/handoff_store.py): closed handoffs, oldest change first. Spelled
-- as handoff_store.IS_CLOSED (tests/storage/test_handoff_store.py checks it): SQLite only
-- uses a partial index when the query repeats its WHERE term.
CREATE INDEX handoffs_closed_by_age
    ON handoffs (updated_at) WHERE state IN ('accepted', 'cancelled');

-- purge_closed_cases: does the case have an escalation still pending or decided lately?
CREATE INDEX escalations_by_case ON escalations (case_number, updated_at);

-- purge_finished: done and dead items by age.
CREATE INDEX outbox_finished_by_age ON outbox (updated_at) WHERE state IN ('done', 'dead');

-- purge_audit_entries: the oldest entries.
CREATE INDEX audit_log_by_age ON audit_log (at);

-- handoff_events and audit_log stay append-only, except for the retention purge: it writes
-- this table's one row, deletes, and removes the row again, all in one transaction, so no
-- other connection ever sees the row and every other DELETE is still refused.
CREATE TABLE retention_purge (
    purging INTEGER PRIMARY KEY CHECK (purging = 1)
);

DROP TRIGGER handoff_events_no_delete;
CREATE TRIGGER handoff_events_no_delete BEFORE DELETE ON handoff_events
WHEN NOT EXISTS (SELECT 1 FROM retention_purge)
BEGIN
    SELECT RAISE(ABORT, 'handoff_events is append-only: rows cannot be deleted');
END;

DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN NOT EXISTS (SELECT 1 FROM retention_purge)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be deleted');
END;
