-- Keep in step with storage/migrations/postgresql/0017_mine_indexes.sql.
-- `mine` (SqlHandoffRepository.involving): someone's newest handoffs, ORDER BY updated_at DESC,
-- id LIMIT n, once among those they requested and once among those they took. With the id in
-- the index and updated_at descending, each half reads its first n entries in order and stops:
-- no sort of everything the person ever touched (a lead who took 100,000 handoffs over the
-- years made the old query sort them all and time out). They replace the indexes of 0002,
-- which had the same leading columns, so a handoff write updates as many indexes as before.
CREATE INDEX handoffs_mine_requested ON handoffs (requester_id, updated_at DESC, id);
CREATE INDEX handoffs_mine_taken ON handoffs (owner_id, updated_at DESC, id);
DROP INDEX handoffs_by_requester;
DROP INDEX handoffs_by_owner;
