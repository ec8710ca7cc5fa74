"""app.py wires the parts: what starts, in which order, and what stops when the app stops."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from botbuilder.core.adapters import TestAdapter

from app import build_bot, create_app
from config.process import ConfigError, check_groups_have_graph, load_process_config
from config.settings import DEFAULT_CONFIG_PATH, Settings
from handoff import effects
from handoff.effects import OutboxKind
from storage.errors import StorageUnavailable
from storage.sql_store import open_store
from teams.endpoint import BOT, STORE
from teams.middleware import (
    AddressedOnly,
    ConversationMemory,
    DeliveredOnce,
    SpokenLanguage,
    TenantGuard,
)

from conftest import FakeClock, StartBot
from harness import activities
from harness.fake_connector import FakeConnector
from harness.handoff_flow import post
from harness.old_cases import Cases

ROOT = Path(__file__).resolve().parents[1]
# What the bot must not load to start on SQLite: each costs megabytes and milliseconds of every
# start-up, and one import moved to the top of a module would bring it back unnoticed. (msal
# cannot be among them: botbuilder-core imports it, for the SDK's own credentials.)
NOT_AT_START_UP = {
    "PIL": "Pillow draws the manifest's icons (manifest/icons.py), never in the bot",
    "asyncpg": "PostgreSQL's driver: imported when DATABASE_URL names PostgreSQL",
    "babel.messages": "reads a language's catalog when the language is first spoken",
    "botbuilder.dialogs.prompts": "the SDK's prompts and recognizers (dialogs/sdk_package.py)",
}
_START_THEN_LIST = """
import asyncio, sys
from aiohttp import web
import app

async def start_and_stop() -> None:
    runner = web.AppRunner(app.create_app(app.load_settings()))
    await runner.setup()
    await runner.cleanup()

asyncio.run(start_and_stop())
print(" ".join(name for name in sys.argv[1:] if name in sys.modules))
"""


def settings_for(tmp_path: Path, **values: str) -> Settings:
    given: dict[str, Any] = {"DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", **values}
    return Settings(**given)


async def test_the_app_serves_the_bot_once_started_and_closes_its_database_when_stopped(
    tmp_path: Path,
) -> None:
    app = create_app(settings_for(tmp_path), FakeClock())
    routes = {(r.method, r.resource.canonical) for r in app.router.routes() if r.resource}
    assert {("POST", "/api/messages"), ("GET", "/healthz"), ("GET", "/readyz")} <= routes
    assert BOT not in app, "the bot exists only once its database is open"
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        store = app[STORE]
        assert app[BOT] is not None
        await store.ping()
    finally:
        await runner.cleanup()
    with pytest.raises(StorageUnavailable):
        await store.ping()


def test_allowed_groups_without_graph_stop_start_up_naming_what_to_set(tmp_path: Path) -> None:
    data = yaml.safe_load(Path(DEFAULT_CONFIG_PATH).read_text(encoding="utf-8"))
    data["case_transfer"]["allowed_groups"] = ["00000000-0000-4000-8000-00000000cafe"]
    config = tmp_path / "handoff.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    settings = settings_for(tmp_path, HANDOFF_CONFIG=str(config))
    with pytest.raises(ConfigError) as refused:
        check_groups_have_graph(settings, load_process_config(config))
    assert "allowed_groups" in str(refused.value)
    assert "GroupMember.Read.All" in str(refused.value)
    with pytest.raises(ConfigError):
        create_app(settings, FakeClock())

    # A managed identity is Graph enough: no client secret is needed for the groups.
    identity = settings_for(
        tmp_path,
        HANDOFF_CONFIG=str(config),
        MicrosoftAppId="identity-client-id",
        MicrosoftAppType="UserAssignedMSI",
        MicrosoftAppTenantId="2f9c1d4e-8b7a-4c3d-9e2f-1a0b9c8d7e6f",
    )
    check_groups_have_graph(identity, load_process_config(config))


async def test_every_turn_meets_the_addressed_filter_then_the_tenant_guard_then_the_claim(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    store = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", clock)
    try:
        pipeline = build_bot(
            store,
            load_process_config(DEFAULT_CONFIG_PATH),
            clock,
            tenant_id="tenant",
            delivery_abandoned_after=timedelta(seconds=15),
        )
        assert [type(step) for step in pipeline.middleware] == [
            AddressedOnly,
            TenantGuard,
            DeliveredOnce,
            ConversationMemory,
            SpokenLanguage,
        ]
        adapter = TestAdapter(pipeline.bot.on_turn)
        pipeline.attach(adapter)
        attached = adapter._middleware._middleware  # the SDK's own list, in run order
        assert attached[-len(pipeline.middleware) :] == list(pipeline.middleware)
    finally:
        await store.close()


async def test_the_outbox_worker_books_the_daily_purge_and_runs_it_with_the_settings(
    tmp_path: Path,
) -> None:
    clock = FakeClock(datetime(2025, 3, 28, 9, 0, tzinfo=UTC))
    settings = settings_for(tmp_path, RETENTION_DAYS="30", AUDIT_RETENTION_DAYS="30")
    store = await open_store(settings.database_url, clock)
    try:
        cases = Cases(store, clock)
        await cases.accepted("2503280040000001")
        clock.advance(timedelta(days=2))
        await cases.accepted("2503280040000002")
        await cases.settle()
        clock.advance(timedelta(days=29))  # closed 31 and 29 days ago
        # Today's run is due (booked yesterday by a process that has since stopped).
        await store.enqueue_message(effects.purge_expired(clock.now()))
    finally:
        await store.close()

    runner = web.AppRunner(create_app(settings, clock))
    await runner.setup()
    try:
        store = await open_store(settings.database_url, clock)
        try:
            for _ in range(200):  # the worker runs in the background: at most 10 s
                state = await store.outbox_states([f"purge_expired:{clock.now():%Y-%m-%d}"])
                if set(state.values()) == {"done"}:
                    break
                await asyncio.sleep(0.05)
            assert [h.case.number for h in await store.for_case("2503280040000001")] == []
            assert len(await store.for_case("2503280040000002")) == 1
            booked = await store.database.fetch_all(
                "SELECT dedupe_key, not_before FROM outbox WHERE kind = ? AND state = 'pending'",
                OutboxKind.PURGE_EXPIRED.value,
            )
        finally:
            await store.close()
    finally:
        await runner.cleanup()
    # The next run, at 03:00 UTC tomorrow, booked once by the start-up and the run alike.
    assert [(r["dedupe_key"], r["not_before"]) for r in booked] == [
        ("purge_expired:2025-04-29", datetime(2025, 4, 29, 3, 0, tzinfo=UTC))
    ]


@pytest.mark.parametrize(("setting", "lines"), [({}, 0), ({"ACCESS_LOG": "1"}, 1)])
async def test_a_turn_gets_an_access_log_line_only_when_access_log_is_set(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
    setting: dict[str, str],
    lines: int,
) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    # aiohttp's own runner, as run_app serves: it would log every request to aiohttp.access.
    bot = await start_bot(**setting)
    for probe in ("/healthz", "/readyz", "/metrics"):
        async with bot.session.get(f"{bot.url}{probe}") as response:
            assert response.status == 200
    status, _ = await post(bot, activities.personal_message("help", fake_connector.url))
    assert status in (200, 201)
    await fake_connector.wait_for_activities(1)
    await bot.stop()  # a request's line is written after its answer: all written by now

    logged = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(logged) == lines, logged
    assert all('"POST /api/messages HTTP/1.1" 20' in line for line in logged), logged


def test_starting_on_sqlite_loads_no_module_that_only_other_paths_need(tmp_path: Path) -> None:
    # A process of its own: this one has loaded everything the tests need.
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.db'}"
    started = subprocess.run(
        [sys.executable, "-c", _START_THEN_LIST, *NOT_AT_START_UP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded = started.stdout.split()
    assert loaded == [], {name: NOT_AT_START_UP[name] for name in loaded}


def test_a_dialog_turn_keeps_the_sdks_dialogs_package_lean() -> None:
    """Every DialogContext makes the SDK's memory scopes, which import from the package: none
    of those names may load the whole of it (17 MB, once, at the first handoff of a run)."""
    script = """
import asyncio, sys
import app
from botbuilder.core import ConversationState, MemoryStorage, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogSet
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

async def one_turn() -> None:
    state = ConversationState(MemoryStorage())
    dialogs = DialogSet(state.create_property("DialogState"))
    activity = Activity(
        type="message", text="handoff", channel_id="msteams",
        conversation=ConversationAccount(id="c"), from_property=ChannelAccount(id="u"),
        recipient=ChannelAccount(id="b"),
    )
    context = await dialogs.create_context(TurnContext(TestAdapter(), activity))
    print(type(context).__name__)

asyncio.run(one_turn())
print("botbuilder.dialogs.prompts" in sys.modules)
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert ran.stdout.split() == ["DialogContext", "False"], ran.stderr


def test_the_sdks_whole_dialogs_package_is_still_there_for_whoever_asks() -> None:
    """The bot loads the SDK's dialogs lean (dialogs/sdk_package.py); a name it left out is
    loaded when asked for, and dialog state stored by the SDK reads back."""
    script = """
import app
from botbuilder.dialogs import DialogState, TextPrompt
from storage.bot_state import _deserialize, _serialize
state = _deserialize(_serialize({"DialogState": DialogState()}), "e1")
print(TextPrompt.__name__, type(state["DialogState"]).__name__)
"""
    ran = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert ran.stdout.split() == ["TextPrompt", "DialogState"], ran.stderr
