-- Keep in step with storage/migrations/sqlite/0016_case_handoffs.sql.
-- How many handoffs the row's case has in all (SqlHandoffRepository.add counts them again for
-- the case with each new one; a purge takes whole cases). The insights figures need the other
-- handoffs of a period's cases only for the cases that have any: with this count they look up
-- those few cases instead of every case of the period, one index probe each (7,000 probes for
-- a month of one region at a million handoffs).
ALTER TABLE handoff_facts ADD COLUMN case_handoffs INTEGER NOT NULL DEFAULT 1;
UPDATE handoff_facts SET case_handoffs = (
    SELECT COUNT(*) FROM handoff_facts AS same_case
    WHERE same_case.case_number = handoff_facts.case_number)
WHERE case_number IN (
    SELECT case_number FROM handoff_facts GROUP BY case_number HAVING COUNT(*) > 1);
