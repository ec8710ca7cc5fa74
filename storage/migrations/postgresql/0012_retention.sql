-- Keep in step with storage/migrations/sqlite/0012_retention.sql.
-- Retention (docs/retention.md): once a day the outbox worker deletes closed cases, finished
-- outbox items and delivery keys older than RETENTION_DAYS, and audit log entries older than
-- AUDIT_RETENTION_DAYS, a few hundred rows per transaction. The indexes below let each batch
-- find its rows without walking the whole table; each names its query.

-- purge_closed_cases (storage/handoff_store.py): closed handoffs, oldest change first.
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
    purging integer PRIMARY KEY CHECK (purging = 1)
);

CREATE OR REPLACE FUNCTION handoff_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM retention_purge) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'handoff_events is append-only: % is not allowed', TG_OP;
END;
$$;

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM retention_purge) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END;
$$;
