"""Two `python app.py` processes on one PostgreSQL behind a round robin: a dialog moves
between them, fifty Accept clicks on both give one owner, and no outbox job runs twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from handoff.ports import SystemClock
from storage.sql_store import open_store

from conftest import CreateDatabase
from harness.bot_process import BotProcess, bot_environment
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    BotClient,
    accept_invoke,
    handoff_card,
)
from harness.ids import fake_user
from harness.round_robin import RoundRobinProxy

CASE = "2311230040009876"
SETTLE_SECONDS = 20.0


@pytest.fixture
async def replicas(
    tmp_path: Path, create_postgres_database: CreateDatabase
) -> AsyncIterator[tuple[str, list[BotProcess]]]:
    url = await create_postgres_database()
    env = bot_environment(url, OUTBOX_POLL_SECONDS="0.1")
    bots = [BotProcess(env, tmp_path / f"bot-{n}.log") for n in range(2)]
    try:
        for bot in bots:
            bot.start()  # together: the migrations' advisory lock makes them take turns
        await asyncio.gather(*(bot.wait_ready() for bot in bots))
        yield url, bots
    finally:
        for bot in bots:
            bot.stop()


async def settled(url: str) -> list[dict[str, object]]:
    """The outbox once nothing due is left pending (bounded wait)."""
    store = await open_store(url, SystemClock())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        while True:
            rows = await store.database.fetch_all(
                "SELECT dedupe_key, kind, state, attempts, not_before <= now() AS due "
                "FROM outbox ORDER BY id"
            )
            if not any(r["state"] == "pending" and r["due"] for r in rows):
                return rows
            if loop.time() > deadline:
                raise AssertionError(f"the outbox did not settle: {rows}")
            await asyncio.sleep(0.1)
    finally:
        await store.close()


async def test_two_replicas_share_dialogs_clicks_and_the_outbox(
    replicas: tuple[str, list[BotProcess]], fake_connector: FakeConnector
) -> None:
    url, bots = replicas
    proxy = await RoundRobinProxy([bot.url for bot in bots]).start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            client = BotClient(proxy.url, session)
            # Each card of the dialog is answered by the other process than the one before.
            card, message_id = await handoff_card(client, fake_connector, CASE)

            people = [fake_user(f"Replica Clicker {n:02d}") for n in range(50)]
            answers = await asyncio.gather(
                *(client.post(accept_invoke(fake_connector, card, message_id, p)) for p in people)
            )
        assert all(bot.url in proxy.served for bot in bots)
        assert min(proxy.served.values()) >= 25, "both processes served the clicks"
    finally:
        await proxy.close()

    assert [status for status, _ in answers] == [200] * 50
    texts = [all_text(body["value"]) for _, body in answers]
    winners = [p.name for p, t in zip(people, texts, strict=True) if "Someone acted" not in t]
    assert len(winners) == 1
    store = await open_store(url, SystemClock())
    try:
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None and handoff.owner is not None
        assert handoff.owner.name == winners[0]
        assert [e.kind for e in await store.history(handoff.id)].count("accept") == 1
    finally:
        await store.close()

    rows = await settled(url)
    # No job ran twice: each was claimed once (nothing failed, so once is all it needed) ...
    assert [r for r in rows if r["state"] == "done" and r["attempts"] != 1] == []
    assert [r for r in rows if r["state"] == "dead"] == []
    # ... including the reminder planning both processes asked for at start-up.
    assert len([r for r in rows if r["kind"] == "plan_reminders" and r["due"]]) == 1
    # ... and the connector saw every send once.
    assert sum(fake_connector.resent.values()) == 0
    told = fake_connector.activities()
    accepted = [a for a in told if "accepted your handoff" in str(a.get("text"))]
    assert len(accepted) == 1
