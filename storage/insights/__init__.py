"""The rollup behind `insights` (migration 0014): one row of facts per handoff, kept in the
same transaction as each change of the handoff, read by period."""
