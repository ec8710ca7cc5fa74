"""What a turn asks of the database, as SQLite sees it (its trace of every statement run on the
bot's real connection): a message outside a dialog claims its delivery and reads its dialog
state in one statement, answers, and marks the delivery done (after the answer, in the
background); a turn inside a dialog adds only the write of its new state; `status` reads the
case once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botbuilder.core.adapters import TestAdapter

from app import DIALOG_STATE, build_bot
from config.process import load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from handoff.models import Person
from handoff.ports import StoredDocument
from handoff.state_machine import request_event
from storage.bot_state import SqlBotStorage
from storage.sql_store import SqlStore, open_store
from teams.activity_codec import read_activity
from teams.middleware import DeliveredOnce

from conftest import FakeClock
from harness import records
from harness.activities import personal_message
from harness.chat import template
from harness.ids import DEFAULT_USER

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SERVICE_URL = "https://smba.example/emea/"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", FakeClock(NOW))
    yield opened
    await opened.close()


class Bot:
    def __init__(self, store: SqlStore) -> None:
        pipeline = build_bot(
            store,
            load_process_config(DEFAULT_CONFIG_PATH),
            FakeClock(NOW),
            delivery_abandoned_after=timedelta(seconds=15),
        )
        self.adapter = TestAdapter(pipeline.bot.on_turn, template())
        pipeline.attach(self.adapter)
        [self._delivered_once] = [m for m in pipeline.middleware if isinstance(m, DeliveredOnce)]
        self._turns = 0
        self.statements: list[str] = []
        # The real sqlite3 connection, which statements use on the event loop's thread.
        self._connection = store.database._conn._conn  # type: ignore[attr-defined]

    async def say(self, text: str) -> list[str]:
        """The statements SQLite ran for the turn, each on one line."""
        self._turns += 1
        self.adapter.activity_buffer.clear()
        self.statements.clear()
        self._connection.set_trace_callback(self._heard)
        activity = personal_message(text, SERVICE_URL, activity_id=f"1700000000{self._turns:03}")
        await self.adapter.receive_activity(read_activity(activity))
        await self._delivered_once.finishes_written()
        self._connection.set_trace_callback(None)
        assert self.adapter.activity_buffer, f"no answer to {text!r}"
        return list(self.statements)

    def _heard(self, statement: str) -> None:
        self.statements.append(" ".join(statement.split()))


async def test_a_command_outside_a_dialog_makes_one_trip_before_its_answer(
    store: SqlStore,
) -> None:
    bot = Bot(store)
    await bot.say("help")  # the first turn stores the chat's address

    statements = await bot.say("help")

    assert [" ".join(s.split()[:3]) for s in statements] == [
        "INSERT INTO handled_keys",  # the claim, reading the dialog state along
        "UPDATE handled_keys SET",  # done
    ]
    assert "FROM bot_state" in statements[0]


async def test_a_turn_inside_a_dialog_reads_its_state_with_the_claim_and_writes_it_once(
    store: SqlStore,
) -> None:
    bot = Bot(store)
    await bot.say("handoff")

    statements = await bot.say("2311230040009876")

    assert statements[0].startswith("INSERT INTO handled_keys")
    assert statements[-1].startswith("UPDATE handled_keys SET pending = 0")
    assert [s.split(" SET")[0] for s in statements[1:] if "bot_state" in s] == ["UPDATE bot_state"]
    # The dialog went on from the state the claim read: it asks the next question.
    [reply] = bot.adapter.activity_buffer
    assert "2311230040009876" in json.dumps(reply.attachments[0].content), statements


async def test_the_state_the_sdk_stores_tells_whether_a_dialog_is_open(store: SqlStore) -> None:
    """What lets a command skip loading the dialog state reads the SDK's own document: were
    its shape to change, every turn would load the state again (slower, never wrong)."""
    bot, storage = Bot(store), SqlBotStorage(store.database)

    async def none_open() -> bool:
        row = await store.database.fetch_one("SELECT etag, doc FROM bot_state")
        stored = StoredDocument(**({"e_tag": row["etag"], "doc": row["doc"]} if row else {}))
        with storage.read_ahead("key", stored):
            return storage.read_ahead_holds_no_dialog("key", DIALOG_STATE)

    await bot.say("help")
    assert await none_open()  # nothing stored: a command outside a dialog writes no state
    await bot.say("handoff")
    assert not await none_open()
    await bot.say("cancel")
    assert await none_open()


async def test_status_reads_the_case_once_and_its_history_once(store: SqlStore) -> None:
    requester = Person(id=DEFAULT_USER.id, name=DEFAULT_USER.name)
    handoff = records.requested("300000011", requester, NOW)
    await store.add(handoff, [request_event(handoff)])
    bot = Bot(store)
    await bot.say("help")

    statements = await bot.say("status 300000011")

    assert [" ".join(s.split()[:4]) for s in statements] == [
        "INSERT INTO handled_keys (key,",  # the claim
        "SELECT doc FROM handoffs",  # the case's handoffs: the one shown, and its journey
        "SELECT doc FROM handoff_events",  # the shown one's history
        "UPDATE handled_keys SET pending",  # done
    ]
    [reply] = bot.adapter.activity_buffer
    assert "300000011" in json.dumps(reply.attachments[0].content)
