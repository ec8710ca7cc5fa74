from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botbuilder.core.adapters import TestAdapter

from app import build_bot
from config.process import ProcessConfig, load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock
from harness.chat import Chat, template
from harness.dialog_user import Recorder


@pytest.fixture
def process() -> ProcessConfig:
    return load_process_config(DEFAULT_CONFIG_PATH)


@pytest.fixture
def clock() -> FakeClock:
    # Monday 2026-11-23 10:00 UTC: EMEA is on shift.
    return FakeClock(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", clock)
    yield opened
    await opened.close()


@pytest.fixture
def adapter(store: SqlStore, process: ProcessConfig, clock: FakeClock) -> TestAdapter:
    pipeline = build_bot(store, process, clock, delivery_abandoned_after=timedelta(seconds=15))
    adapter = TestAdapter(pipeline.bot.on_turn, template())
    pipeline.attach(adapter)
    return adapter


@pytest.fixture
def chat(adapter: TestAdapter) -> Chat:
    return Chat(adapter)


@pytest.fixture
def user(chat: Chat) -> Recorder:
    """The person in the chat, every card they are shown checked against the schema."""
    return Recorder(chat)
