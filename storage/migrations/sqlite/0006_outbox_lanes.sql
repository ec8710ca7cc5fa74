-- The outbox keeps each conversation's messages in order and remembers the sends an item
-- has made, so a retry does not send them again (bot/outbox_worker.py). The other dialect's
-- 0006 is the same.

-- Items of one lane (e.g. one person's chat, the Case Transfer channel) go out one at a
-- time in id order; NULL means no order to keep.
ALTER TABLE outbox ADD COLUMN lane TEXT;
-- The results (activity ids) of the sends an item has made so far, a JSON list.
ALTER TABLE outbox ADD COLUMN sent_steps TEXT NOT NULL DEFAULT '[]';
CREATE INDEX outbox_pending_lane ON outbox (lane, id) WHERE state = 'pending';
