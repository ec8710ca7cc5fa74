-- Idempotency: keys of the deliveries and card clicks already handled, so that Teams
-- redelivering an activity (same id, or a new id with the same content) or a repeated click
-- has one effect. A key is claimed with INSERT ... ON CONFLICT DO NOTHING; a card click's key
-- is written in the same transaction as the change it made. Rows older than a day are
-- pruned. storage/migrations/sqlite/0007_handled_keys.sql is the same schema.

CREATE TABLE handled_keys (
    key        text PRIMARY KEY,
    claimed_at timestamptz NOT NULL
);
CREATE INDEX handled_keys_by_age ON handled_keys (claimed_at);

-- Which handoff a posted card belongs to, found from the message a click came from.
CREATE INDEX handoff_cards_by_activity ON handoff_cards (activity_id);
