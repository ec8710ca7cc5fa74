"""What every per-port store shares: one Database and the clock that stamps its rows.

Each port of handoff.ports has its own store class on this base; storage.sql_store.SqlStore
inherits them all, so they run on the same database and a change that spans ports (a handoff
with its outbox messages and its idempotency key) still commits in one transaction.
"""

from __future__ import annotations

from handoff.ports import Clock

from .sql_protocol import Database


class StoreBase:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    @property
    def database(self) -> Database:
        """The underlying database, e.g. for storage.bot_state.SqlBotStorage."""
        return self._db
