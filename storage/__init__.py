"""Persistence for the handoff bot: SQLite (embedded default) or PostgreSQL behind the ports of
`handoff.ports`. The botbuilder adapter lives in `storage.bot_state` and is not imported here,
so using the store does not pull in the Bot Framework SDK."""

from .database import Database, Session, open_database
from .errors import StorageUnavailable
from .sql_store import SqlStore, open_store

__all__ = [
    "Database",
    "Session",
    "SqlStore",
    "StorageUnavailable",
    "open_database",
    "open_store",
]
