-- Keep in step with storage/migrations/sqlite/0015_time_to_accept_index.sql.
-- /metrics' handoff_time_to_accept_seconds (teams/metrics.py) counts every accepted handoff's
-- time to accept by severity at each scrape (SqlInsights.time_to_accept_buckets): with this
-- index that is one pass over small index entries instead of over the whole rows of
-- handoff_facts, which a scrape every 30 s over a million handoffs would otherwise read.
-- Partial: open handoffs have no time to accept (the query repeats the WHERE term, which
-- SQLite needs to use it).
CREATE INDEX handoff_facts_time_to_accept ON handoff_facts (severity, seconds_to_accept)
    WHERE seconds_to_accept IS NOT NULL;
