-- Keep in step with storage/migrations/sqlite/0011_audit_log.sql.
-- Audited changes that belong to no handoff: the Case Transfer channel bound with `setup` (who
-- may act on cards follows from it), a person's settings changed. Append-only, like
-- handoff_events; `doc` is the whole AuditEntry, `subject` what it changed (a channel id, a
-- person's id).

CREATE TABLE audit_log (
    seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id       text NOT NULL UNIQUE,
    kind     text NOT NULL,
    actor_id text NOT NULL,
    subject  text NOT NULL,
    at       timestamptz NOT NULL,
    doc      text NOT NULL
);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
