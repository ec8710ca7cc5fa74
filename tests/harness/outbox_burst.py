"""A burst of personal messages through the bot's outbox, and the check that each arrived
once and in order: shared by the outbox tests and scripts/chaos.py.

The people first chat with the bot (so it knows their personal chats), then the messages
are written to the outbox table as the bot itself would write them, and the bot's worker
sends them to the fake connector.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from handoff import effects
from handoff.models import Person
from handoff.ports import Clock, SystemClock
from storage.sql_store import SqlStore, open_store

from . import activities
from .bot_process import BotProcess, bot_environment
from .fake_connector import FakeConnector, client_activity_id
from .fake_graph import FakeGraph
from .graph_access import TEAMS_APP_ID
from .handoff_flow import BotClient
from .ids import TeamsUser, fake_user

Post = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Recipient:
    user: TeamsUser
    conversation_id: str

    @property
    def person(self) -> Person:
        return Person(id=self.user.id, name=self.user.name, aad_object_id=self.user.aad_object_id)

    def says(self, text: str, service_url: str, **fields: Any) -> dict[str, Any]:
        """`text` as this person sends it in their personal chat with the bot."""
        return activities.personal_message(
            text,
            service_url,
            user_id=self.user.id,
            user_name=self.user.name,
            aad_object_id=self.user.aad_object_id,
            conversation_id=self.conversation_id,
            **fields,
        )


@dataclass(frozen=True)
class Delivery:
    """What arrived, against what was sent."""

    expected: int
    delivered: int
    lost: int
    duplicated: int
    """Messages shown more than once in a chat: every send the connector accepted counts."""
    out_of_order: int
    resent: int
    """Of the duplicates, the outbox's resends of a send already accepted (same client
    activity id): a measurement of the crash window, included in `duplicated`."""
    failures: int
    """Sends and updates the connector refused (the injected faults)."""


def recipients(count: int, tag: str = "burst") -> list[Recipient]:
    return [
        Recipient(fake_user(f"{tag.title()} Person {n}"), f"a:{tag}-chat-{n}") for n in range(count)
    ]


def install_app_for(graph: FakeGraph, people: Sequence[Recipient]) -> None:
    """The people have the app installed: Graph knows their personal chats with it."""
    for person in people:
        graph.add_app_chat(person.user.aad_object_id, TEAMS_APP_ID, person.conversation_id)


async def introduce(post: Post, connector: FakeConnector, people: Sequence[Recipient]) -> None:
    """Each person says hello in their personal chat; the bot remembers the chat."""
    before = len(connector.activities())
    for person in people:
        await post(person.says("help", connector.url))
    await connector.wait_for_activities(before + len(people), timeout=15)


def burst_text(tag: str, number: int) -> str:
    return f"{tag} message {number:03d}"


async def enqueue_burst(
    database_url: str,
    people: Sequence[Recipient],
    per_person: int,
    tag: str,
    due: datetime | None = None,
) -> dict[str, list[str]]:
    """Writes per_person messages for each person to the outbox, interleaved as they would
    be decided, due at `due` (now if not given); returns the texts each chat should show,
    in order."""
    store = await open_store(database_url, SystemClock())
    expected: dict[str, list[str]] = {p.conversation_id: [] for p in people}
    try:
        now = due or SystemClock().now()
        for number in range(per_person):
            for person in people:
                text = burst_text(tag, number)
                key = f"{tag}:{number}"
                await store.enqueue_message(effects.tell(person.person, text, key, now))
                expected[person.conversation_id].append(text)
    finally:
        await store.close()
    return expected


def burst_shown(connector: FakeConnector, conversation_id: str, tag: str) -> list[str]:
    marker = f"{tag} message "
    return [
        str(a.get("text"))
        for a in connector.activities(conversation_id)
        if str(a.get("text") or "").startswith(marker)
    ]


def all_arrived(connector: FakeConnector, expected: dict[str, list[str]], tag: str) -> bool:
    return all(
        len(set(burst_shown(connector, conversation, tag))) >= len(texts)
        for conversation, texts in expected.items()
    )


def check_delivery(connector: FakeConnector, expected: dict[str, list[str]], tag: str) -> Delivery:
    lost = duplicated = out_of_order = delivered = 0
    for conversation, texts in expected.items():
        shown = burst_shown(connector, conversation, tag)
        delivered += len(shown)
        lost += len(set(texts) - set(shown))
        duplicated += len(shown) - len(set(shown))
        firsts = list(dict.fromkeys(shown))
        out_of_order += sum(1 for a, b in zip(firsts, texts, strict=False) if a != b)
    marker = f"tell:{tag}:"
    resent = sum(n for key, n in connector.resent.items() if key.startswith(marker))
    failures = sum(
        1
        for r in connector.requests
        if r.status >= 400 and (client_activity_id(r.body) or "").startswith(marker)
    )
    return Delivery(
        expected=sum(len(t) for t in expected.values()),
        delivered=delivered,
        lost=lost,
        duplicated=duplicated,
        out_of_order=out_of_order,
        resent=resent,
        failures=failures,
    )


async def wait_until_delivered(
    connector: FakeConnector,
    expected: dict[str, list[str]],
    tag: str,
    timeout: float = 30.0,  # noqa: ASYNC109 -- a bounded wait is this helper's contract
) -> None:
    """Wakes on every request the connector records until every message has arrived."""
    await connector.wait_for(
        lambda _record: all_arrived(connector, expected, tag),
        timeout,
        description=f"all {tag} messages delivered",
    )


async def flaky_burst(
    post: Post,
    connector: FakeConnector,
    database_url: str,
    people: Sequence[Recipient],
    per_person: int,
    tag: str,
    *,
    seed: int | None = None,
    timeout: float = 40.0,  # noqa: ASYNC109 -- a bounded wait is this helper's contract
) -> dict[str, list[str]]:
    """The people chat with the bot, then the connector refuses 30% of sends (429/503) while
    a burst goes out; returns once every message arrived, with what each chat expects."""
    await introduce(post, connector, people)
    connector.fail_randomly(0.3, (429, 503), retry_after="0", seed=seed)
    expected = await enqueue_burst(database_url, people, per_person, tag)
    await wait_until_delivered(connector, expected, tag, timeout=timeout)
    return expected


async def outbox_settled(store: SqlStore, clock: Clock) -> None:
    """Waits (bounded) until no outbox item is due by `clock`: everything the bot meant to
    send by then is sent."""
    due = "SELECT id FROM outbox WHERE state = 'pending' AND not_before <= ?"
    for _ in range(500):
        if await store.database.fetch_one(due, clock.now()) is None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the outbox still has due items after 10 s")


async def sends_in_doubt(database_url: str, tag: str) -> list[str]:
    """The burst texts whose send the bot had begun and not recorded as done (the outbox
    row's `sending`): after a crash, the only ones that may arrive twice."""
    store = await open_store(database_url, SystemClock())
    try:
        rows = await store.database.fetch_all(
            "SELECT payload FROM outbox WHERE state = 'pending' AND sending IS NOT NULL"
        )
    finally:
        await store.close()
    texts = [str(json.loads(row["payload"]).get("text", "")) for row in rows]
    return [t for t in texts if t.startswith(f"{tag} message ")]


@dataclass(frozen=True)
class Crash:
    expected: dict[str, list[str]]
    sent_at_kill: int
    in_doubt: list[str]
    """The texts whose send was in flight when the bot was killed."""


async def kill_mid_burst(
    connector: FakeConnector,
    database_url: str,
    log: Path,
    people: Sequence[Recipient],
    per_person: int,
    tag: str,
    *,
    kill_after: int,
    timeout: float = 40.0,  # noqa: ASYNC109 -- a bounded wait is this helper's contract
    settings: Mapping[str, str],
) -> Crash:
    """Starts a bot process (logging to `log`, with these settings), sends a burst through
    its outbox, SIGKILLs it once `kill_after` burst messages have arrived, notes the sends in
    doubt, restarts it, waits until every message arrived and stops it."""
    # A short lease: the items the dead process held come back a second after the restart.
    env = bot_environment(database_url, OUTBOX_LEASE_SECONDS="1", **settings)
    bot = BotProcess(env, log)
    try:
        return await _kill_mid_burst(
            bot, connector, database_url, people, per_person, tag, kill_after, timeout
        )
    finally:
        bot.stop()


async def _kill_mid_burst(
    bot: BotProcess,
    connector: FakeConnector,
    database_url: str,
    people: Sequence[Recipient],
    per_person: int,
    tag: str,
    kill_after: int,
    timeout: float,  # noqa: ASYNC109 -- a bounded wait is this helper's contract
) -> Crash:
    await bot.start_ready()
    async with aiohttp.ClientSession() as session:
        await introduce(BotClient(bot.url, session).post, connector, people)
    expected = await enqueue_burst(database_url, people, per_person, tag)
    await connector.wait_for(
        lambda r: f"{tag} message" in str((r.body or {}).get("text", "")),
        timeout,
        count=kill_after,
        description=f"{kill_after} {tag} messages sent",
    )
    bot.kill()
    sent_at_kill = check_delivery(connector, expected, tag).delivered
    in_doubt = await sends_in_doubt(database_url, tag)
    await bot.start_ready()
    await wait_until_delivered(connector, expected, tag, timeout=timeout)
    return Crash(expected, sent_at_kill, in_doubt)


def shown_twice(connector: FakeConnector, expected: dict[str, list[str]], tag: str) -> list[str]:
    """The burst texts some chat shows more than once."""
    twice: list[str] = []
    for conversation in expected:
        shown = burst_shown(connector, conversation, tag)
        twice += sorted({t for t in shown if shown.count(t) > 1})
    return twice
