-- Indexes for the queries the bot makes on every turn and every outbox round, sized for a
-- database that keeps years of handoffs (the bench seeds 1,000,000). Each names its query.

-- Outbox claim (storage/sql_store.py _CLAIM): pending items due now, oldest first. Done and
-- dead items pile up by the million; a partial index holds only the few pending ones, so the
-- worker's poll every half second stays a short index scan instead of a walk over history.
CREATE INDEX outbox_pending_due ON outbox (not_before, id) WHERE state = 'pending';

-- dead_letters: the newest dead items.
CREATE INDEX outbox_dead_newest ON outbox (updated_at, id) WHERE state = 'dead';

-- pending_escalation: one pending escalation per case, looked up on every escalate and card.
CREATE INDEX escalations_pending_by_case ON escalations (case_number) WHERE state = 'pending';

-- personal_conversation / channel_conversation: the newest address of a person or channel
-- (kind and recency in the index, so ORDER BY ... LIMIT 1 reads one entry).
CREATE INDEX conversations_by_user_recent ON conversations (user_id, kind, updated_at);
CREATE INDEX conversations_by_user_aad_recent ON conversations (user_aad_id, kind, updated_at);
CREATE INDEX conversations_by_channel_recent ON conversations (channel_id, kind, updated_at);

-- Replaced by the indexes above (their leading columns); fewer indexes to update per write.
DROP INDEX outbox_claimable;
DROP INDEX conversations_by_user;
DROP INDEX conversations_by_user_aad;
DROP INDEX conversations_by_channel;
