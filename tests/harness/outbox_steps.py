"""The outbox steps run for real below the worker: items enqueued in a real SQLite file (with the
helpers of handoff/effects.py) and read back from it, each run with its send journal as the
worker runs it, sending through the real OutboxSender (the SDK's CloudAdapter over the pooled
connector client) to the fake Bot Connector."""

from __future__ import annotations

import gettext
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from config.settings import Settings
from handoff.models import Person
from handoff.ports import ConversationAddress, ConversationKind, OutboxItem, OutboxMessage
from i18n import catalogs
from outbox.worker import Handler, SendJournal
from storage.outbox_store import _OUTBOX_COLUMNS, _outbox_item
from storage.sql_store import SqlStore, open_store
from teams.connector_auth import build_connector_http, create_adapter
from teams.pacing import ConversationPacer
from teams.sending import OutboxSender

from .fake_connector import FakeConnector
from .ids import DEFAULT_BOT_ID, DEFAULT_CHANNEL_ID, DEFAULT_TEAM_ID, DEFAULT_TENANT_ID

CARD = "application/vnd.microsoft.card.adaptive"


class MovableClock(Protocol):
    """A clock a test moves (conftest.FakeClock)."""

    def now(self) -> datetime: ...

    def advance(self, delta: timedelta) -> None: ...


def personal_chat_id(person: Person) -> str:
    return f"a:chat-with-{person.id}"


@dataclass
class StepWorld:
    store: SqlStore
    clock: MovableClock
    connector: FakeConnector
    sender: OutboxSender

    def reference(self, conversation_id: str) -> dict[str, Any]:
        return {
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "conversation": {"id": conversation_id},
            "bot": {"id": DEFAULT_BOT_ID},
        }

    async def personal_chat(self, person: Person, locale: str | None = None) -> str:
        """The person has installed the bot: their chat's address is known (with the locale
        their Teams client reported, when given)."""
        conversation_id = personal_chat_id(person)
        reference = self.reference(conversation_id)
        if locale is not None:
            reference["locale"] = locale
        await self.store.save_conversation(
            ConversationAddress(
                conversation_id=conversation_id,
                kind=ConversationKind.PERSONAL,
                service_url=self.connector.url,
                tenant_id=DEFAULT_TENANT_ID,
                user=person,
                reference=reference,
                updated_at=self.clock.now(),
            )
        )
        return conversation_id

    async def channel(self, channel_id: str = DEFAULT_CHANNEL_ID) -> str:
        """The bot is in the team of this channel: its address is known."""
        await self.store.save_conversation(
            ConversationAddress(
                conversation_id=channel_id,
                kind=ConversationKind.CHANNEL,
                service_url=self.connector.url,
                tenant_id=DEFAULT_TENANT_ID,
                team_id=DEFAULT_TEAM_ID,
                channel_id=channel_id,
                reference=self.reference(channel_id),
                updated_at=self.clock.now(),
            )
        )
        return channel_id

    async def group_chat(self, chat_id: str) -> str:
        """Teams told the bot it is in this group chat."""
        await self.store.save_conversation(
            ConversationAddress(
                conversation_id=chat_id,
                kind=ConversationKind.GROUP_CHAT,
                service_url=self.connector.url,
                tenant_id=DEFAULT_TENANT_ID,
                reference=self.reference(chat_id),
                updated_at=self.clock.now(),
            )
        )
        return chat_id

    async def item(self, dedupe_key: str) -> OutboxItem:
        """The outbox item with this key, as the store holds it now."""
        row = await self.store.database.fetch_one(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE dedupe_key = ?", dedupe_key
        )
        assert row is not None, f"no outbox item {dedupe_key!r}"
        return _outbox_item(row)

    async def enqueued(self, message: OutboxMessage) -> OutboxItem:
        """The message enqueued, and read back as the worker would get it."""
        await self.store.enqueue_message(message)
        return await self.item(message.dedupe_key)

    async def items(self, kind: str) -> list[OutboxItem]:
        rows = await self.store.database.fetch_all(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE kind = ? ORDER BY id", kind
        )
        return [_outbox_item(row) for row in rows]

    async def run(self, handler: Handler, item: OutboxItem) -> None:
        """Runs one attempt of the item as the worker does: its sends journaled on it."""
        await handler(item, SendJournal(item, self.store, self.clock))

    def texts(self, conversation_id: str | None = None) -> list[str]:
        return [a["text"] for a in self.connector.activities(conversation_id) if a.get("text")]

    def cards(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        return self.connector.adaptive_cards(conversation_id)


@asynccontextmanager
async def outbox_sender() -> AsyncIterator[OutboxSender]:
    """The outbox's sender as the bot builds it, its HTTP client open for the block."""
    settings = Settings()
    http = build_connector_http(settings)
    assert http is not None
    await http.start()
    try:
        yield OutboxSender(create_adapter(settings, http), settings.app_id, ConversationPacer())
    finally:
        await http.close()


@asynccontextmanager
async def step_world(
    tmp_path: Path, clock: MovableClock, connector: FakeConnector
) -> AsyncIterator[StepWorld]:
    store = await open_store(f"sqlite:///{tmp_path / 'steps.db'}", clock)
    try:
        async with outbox_sender() as sender:
            yield StepWorld(store, clock, connector, sender)
    finally:
        await store.close()


def all_text(node: Any) -> str:
    """Every string in a card, one a line: what a reader can see of it, and more."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, dict):
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(node)
    return "\n".join(parts)


class FewTexts(gettext.NullTranslations):
    """A catalog of a few translations, while the real ones are still empty."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        super().__init__()
        self._texts = dict(texts)

    def gettext(self, message: str) -> str:
        return self._texts.get(message, message)


@contextmanager
def translated(code: str, texts: Mapping[str, str]) -> Iterator[None]:
    """`texts` (English: translation) are what `code` reads inside; its own catalog after."""
    before = catalogs.translations(code)
    catalogs.register(code, FewTexts(texts))
    try:
        yield
    finally:
        catalogs.register(code, before)
