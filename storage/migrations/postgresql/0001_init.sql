-- The initial schema (PostgreSQL). storage/migrations/sqlite/0001_init.sql is the same schema;
-- keep the two in step. JSON documents are `text`, not `jsonb`: jsonb refuses "\u0000" (which
-- pydantic writes for a NUL in pasted notes, and SQLite accepts) and reorders object keys
-- (which breaks jsonpickle's order-based py/id references in bot_state). Every column a query
-- filters on is a real column; ad-hoc reports can still use `doc::jsonb`.

-- One row per handoff. `doc` is the whole Handoff (pydantic JSON) and the source of truth; the
-- other columns are copies of its fields, kept for constraints, indexes and optimistic locking.
CREATE TABLE handoffs (
    id            text PRIMARY KEY,
    case_number   text NOT NULL,
    state         text NOT NULL,
    target_region text NOT NULL,
    requester_id  text NOT NULL,
    owner_id      text,
    version       integer NOT NULL CHECK (version >= 1),
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    doc           text NOT NULL
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
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          text NOT NULL UNIQUE,
    handoff_id  text NOT NULL REFERENCES handoffs (id),
    case_number text NOT NULL,
    kind        text NOT NULL,
    actor_id    text NOT NULL,
    at          timestamptz NOT NULL,
    doc         text NOT NULL
);
CREATE INDEX handoff_events_by_handoff ON handoff_events (handoff_id, seq);
CREATE INDEX handoff_events_by_case ON handoff_events (case_number, seq);

CREATE FUNCTION handoff_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'handoff_events is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER handoff_events_append_only
    BEFORE UPDATE OR DELETE ON handoff_events
    FOR EACH ROW EXECUTE FUNCTION handoff_events_append_only();

-- Where the bot can speak again later. `doc` is the whole ConversationAddress.
CREATE TABLE conversations (
    conversation_id text PRIMARY KEY,
    kind            text NOT NULL,
    service_url     text NOT NULL,
    tenant_id       text,
    user_id         text,
    user_aad_id     text,
    team_id         text,
    channel_id      text,
    doc             text NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX conversations_by_user ON conversations (user_id);
CREATE INDEX conversations_by_user_aad ON conversations (user_aad_id);
CREATE INDEX conversations_by_channel ON conversations (channel_id);

-- Slow work to do later, durably. A pending item whose lease_until has passed is claimable
-- again (its worker died).
CREATE TABLE outbox (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL,
    payload     text NOT NULL,
    dedupe_key  text NOT NULL UNIQUE,
    state       text NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
    attempts    integer NOT NULL DEFAULT 0,
    not_before  timestamptz NOT NULL,
    lease_until timestamptz,
    last_error  text,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX outbox_claimable ON outbox (state, not_before);

-- botbuilder dialog and conversation state (storage/bot_state.py). `doc` is jsonpickle output.
CREATE TABLE bot_state (
    key        text PRIMARY KEY,
    etag       text NOT NULL,
    doc        text NOT NULL,
    updated_at timestamptz NOT NULL
);
