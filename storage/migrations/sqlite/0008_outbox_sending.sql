-- The send an outbox item has begun and not yet recorded as sent ("step@attempt"), written
-- just before the request goes out and cleared with the step's result just after it: after a
-- crash, only an item with this set can have reached Teams without the bot knowing, so only
-- that one send can be repeated (bot/outbox_worker.py). The other dialect's 0008 is the same.
ALTER TABLE outbox ADD COLUMN sending TEXT;
