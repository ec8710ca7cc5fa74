-- Keep in step with storage/migrations/sqlite/0010_provisional_delivery_keys.sql.
-- A delivery's keys are claimed before its turn runs, provisionally (pending = 1) until the
-- turn finishes. A process that dies mid-turn (SIGKILL, OOM, power cut) leaves them pending;
-- once their claim is older than the request deadline plus a margin, Teams' redelivery of
-- that activity takes them over (INSERT ... ON CONFLICT DO UPDATE ... WHERE pending AND
-- claimed_at < the bound) instead of being dropped as a repeat. Rows from before this
-- migration, and the keys of card clicks (written with their change), are done: pending 0.

-- Who holds the claim: "<host>:<pid>:<random>#<n>", one value per claim, so a turn's finish
-- or release touches only its own claim, never one a redelivery took over.
ALTER TABLE handled_keys ADD COLUMN claimed_by text;
ALTER TABLE handled_keys ADD COLUMN pending integer NOT NULL DEFAULT 0;
-- Turns started for the key: above 1 when a redelivery took an abandoned claim over.
ALTER TABLE handled_keys ADD COLUMN attempts integer NOT NULL DEFAULT 1;
