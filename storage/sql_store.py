"""The whole store on SQL, one implementation for SQLite and PostgreSQL (see storage.database):
every port of handoff.ports that the bot persists, each implemented in a module of its own and
brought together here on one Database."""

from __future__ import annotations

import logging

from handoff.ports import Clock

from .audit_log import SqlAuditLog
from .conversation_store import SqlConversationStore
from .database import DEFAULT_TIMEOUT_SECONDS, open_database
from .escalation_store import SqlEscalationStore
from .group_chat_store import SqlGroupChatStore
from .handled_keys_store import SqlHandledKeys
from .handoff_store import SqlHandoffRepository
from .insights.facts import SqlInsights
from .migrate import migrate
from .outbox_store import SqlOutbox
from .search.handoff_search import SqlHandoffSearch
from .settings_store import SqlSettingsStore
from .user_settings_store import SqlUserSettingsStore

logger = logging.getLogger(__name__)


class SqlStore(
    SqlHandoffRepository,
    SqlHandledKeys,
    SqlOutbox,
    SqlConversationStore,
    SqlSettingsStore,
    SqlUserSettingsStore,
    SqlEscalationStore,
    SqlGroupChatStore,
    SqlAuditLog,
    SqlInsights,
    SqlHandoffSearch,
):
    """All the ports on one Database. One class rather than nine objects because a change that
    spans ports (a handoff saved with its outbox messages and its idempotency key) must commit
    in one transaction, and every caller so far takes one store for all of them."""

    async def ping(self) -> None:
        """Proves the database answers (the readiness probe); StorageUnavailable if not."""
        await self._db.fetch_one("SELECT 1 AS ok")

    async def close(self) -> None:
        await self._db.close()


async def open_store(
    url: str, clock: Clock, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> SqlStore:
    """Opens the database at `url` (see storage.database.open_database) and brings its schema
    up to date. ValueError for a malformed URL, StorageUnavailable if it cannot be used."""
    db = await open_database(url, timeout_seconds=timeout_seconds)
    try:
        await migrate(db, clock)
    except BaseException:
        await db.close()
        raise
    logger.debug("the store is open and its schema up to date", extra={"dialect": db.dialect})
    return SqlStore(db, clock)
