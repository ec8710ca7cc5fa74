-- The request whose turn enqueued an outbox item (handoff/turn_ids.py): the item's log lines
-- carry the same turn_id as the click that caused them. Empty for items enqueued outside a
-- turn (reminders, retention, reports).
ALTER TABLE outbox ADD COLUMN turn_id TEXT;
