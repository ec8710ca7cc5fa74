-- Keep in step with storage/migrations/sqlite/0018_critical_open_by_region.sql.
-- `insights <region>` (SqlInsights.critical_open with a region): the region's critical handoffs
-- open without an owner, oldest first. Given the region, SQLite reads handoff_facts_by_region
-- instead of the partial index of 0014 and walks all of the region's rows when it has none
-- open (150 ms at a million handoffs); this one holds only the critical open rows, like 0014's,
-- so it stays a few entries and a write only touches it while its handoff is critical and open.
CREATE INDEX handoff_facts_critical_open_by_region
    ON handoff_facts (target_region, requested_at, handoff_id)
    WHERE severity = 'A' AND is_24x7 = 1 AND state NOT IN ('accepted', 'cancelled');
