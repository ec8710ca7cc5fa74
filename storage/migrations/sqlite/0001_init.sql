-- The initial schema (SQLite). storage/migrations/postgresql/0001_init.sql is the same schema;
-- keep the two in step. Timestamp columns are declared TIMESTAMP_TEXT: fixed-width ISO-8601 UTC
-- text (sortable as text) that the driver converts to and from aware datetimes. JSON documents
-- are TEXT.

-- One row per handoff. `doc` is the whole Handoff (pydantic JSON) and the source of truth; the
-- other columns are copies of its fields, kept for constraints, indexes and optimistic locking.
CREATE TABLE handoffs (
    id            TEXT PRIMARY KEY,
    case_number   TEXT NOT NULL,
    state         TEXT NOT NULL,
    target_region TEXT NOT NULL,
    requester_id  TEXT NOT NULL,
    owner_id      TEXT,
    version       INTEGER NOT NULL CHECK (version >= 1),
    created_at    TIMESTAMP_TEXT NOT NULL,
    updated_at    TIMESTAMP_TEXT NOT NULL,
    doc           TEXT NOT NULL
);

-- At most one open handoff per case: a second one is refused (DuplicateOpenHandoff).
CREATE UNIQUE INDEX handoffs_one_open_per_case
    ON handoffs (case_number) WHERE state NOT IN ('accepted', 'cancelled');

-- list_open: open handoffs of a region (or of all regions), oldest first. Partial indexes hold
-- only the open rows, which stay few while accepted and cancelled ones pile up.
CREATE INDEX handoffs_open_by_region
    ON handoffs (target_region, created_at, id) WHERE state NOT IN ('accepted', 'cancelled');
CREATE INDEX handoffs_open_by_age
    ON handoffs (created_at, id) WHERE state NOT IN ('accepted', 'cancelled');

-- Every handoff a case ever had, for case look-ups and reports.
CREATE INDEX handoffs_by_case ON handoffs (case_number, created_at);

-- The audit trail: append-only, in the order things happened (seq).
CREATE TABLE handoff_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    handoff_id  TEXT NOT NULL REFERENCES handoffs (id),
    case_number TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    at          TIMESTAMP_TEXT NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX handoff_events_by_handoff ON handoff_events (handoff_id, seq);
CREATE INDEX handoff_events_by_case ON handoff_events (case_number, seq);

CREATE TRIGGER handoff_events_no_update BEFORE UPDATE ON handoff_events
BEGIN
    SELECT RAISE(ABORT, 'handoff_events is append-only: rows cannot be changed');
END;
CREATE TRIGGER handoff_events_no_delete BEFORE DELETE ON handoff_events
BEGIN
    SELECT RAISE(ABORT, 'handoff_events is append-only: rows cannot be deleted');
END;

-- Where the bot can speak again later. `doc` is the whole ConversationAddress.
CREATE TABLE conversations (
    conversation_id TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    service_url     TEXT NOT NULL,
    tenant_id       TEXT,
    user_id         TEXT,
    user_aad_id     TEXT,
    team_id         TEXT,
    channel_id      TEXT,
    doc             TEXT NOT NULL,
    updated_at      TIMESTAMP_TEXT NOT NULL
);
CREATE INDEX conversations_by_user ON conversations (user_id);
CREATE INDEX conversations_by_user_aad ON conversations (user_aad_id);
CREATE INDEX conversations_by_channel ON conversations (channel_id);

-- Slow work to do later, durably. A pending item whose lease_until has passed is claimable
-- again (its worker died).
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    dedupe_key  TEXT NOT NULL UNIQUE,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  TIMESTAMP_TEXT NOT NULL,
    lease_until TIMESTAMP_TEXT,
    last_error  TEXT,
    created_at  TIMESTAMP_TEXT NOT NULL,
    updated_at  TIMESTAMP_TEXT NOT NULL
);
CREATE INDEX outbox_claimable ON outbox (state, not_before);

-- botbuilder dialog and conversation state (storage/bot_state.py). `doc` is jsonpickle output.
CREATE TABLE bot_state (
    key        TEXT PRIMARY KEY,
    etag       TEXT NOT NULL,
    doc        TEXT NOT NULL,
    updated_at TIMESTAMP_TEXT NOT NULL
);
