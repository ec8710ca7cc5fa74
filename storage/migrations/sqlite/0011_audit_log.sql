-- Keep in step with storage/migrations/postgresql/0011_audit_log.sql.
-- Audited changes that belong to no handoff: the Case Transfer channel bound with `setup` (who
-- may act on cards follows from it), a person's settings changed. Append-only, like
-- handoff_events; `doc` is the whole AuditEntry, `subject` what it changed (a channel id, a
-- person's id).

CREATE TABLE audit_log (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT NOT NULL UNIQUE,
    kind     TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    subject  TEXT NOT NULL,
    at       TIMESTAMP_TEXT NOT NULL,
    doc      TEXT NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be changed');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: rows cannot be deleted');
END;
