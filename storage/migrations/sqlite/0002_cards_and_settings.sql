-- Where each handoff's Case Transfer card was posted, so it can be updated in place; and the
-- settings the bot is told at run time (the Case Transfer channel bound with `setup`).
-- storage/migrations/postgresql/0002_cards_and_settings.sql is the same schema.

CREATE TABLE handoff_cards (
    handoff_id      TEXT PRIMARY KEY REFERENCES handoffs (id),
    conversation_id TEXT NOT NULL,
    activity_id     TEXT NOT NULL,
    updated_at      TIMESTAMP_TEXT NOT NULL
);

CREATE TABLE bot_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TIMESTAMP_TEXT NOT NULL
);

-- `mine`: the handoffs someone requested or took.
CREATE INDEX handoffs_by_requester ON handoffs (requester_id, updated_at);
CREATE INDEX handoffs_by_owner ON handoffs (owner_id, updated_at);
