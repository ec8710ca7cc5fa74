"""Chaos and load against the running bot: starts `python app.py` processes (and the local
fakes of Microsoft's cloud), breaks things, and prints what was lost or doubled.

    make chaos        # or: .venv/bin/python scripts/chaos.py [scenario ...]

Scenarios: the Bot Connector refusing 30% of sends (429/503); the bot SIGKILLed in the
middle of a burst and restarted; two replicas on one PostgreSQL behind a round robin with
fifty simultaneous Accept clicks; PostgreSQL cut off for 10 s under traffic (through a TCP
proxy: the shared server is never stopped). Needs the local PostgreSQL (`make postgres`);
HANDOFF_TEST_POSTGRES_URL points elsewhere. Every process it starts is stopped by its PID,
and the databases it creates are dropped. Name scenarios (their function names, e.g.
`postgres_outage`) to run only those.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

from application import messages  # noqa: E402
from handoff.ports import SystemClock  # noqa: E402
from storage.sql_store import open_store  # noqa: E402

from harness import activities  # noqa: E402
from harness.bot_process import BotProcess, bot_environment  # noqa: E402
from harness.fake_connector import FakeConnector  # noqa: E402
from harness.graph_access import graph_for_processes  # noqa: E402
from harness.handoff_flow import (  # noqa: E402
    BotClient,
    accept_invoke,
    handoff_card,
    posted_card,
    request_handoff,
)
from harness.ids import DEFAULT_CHANNEL_ID, fake_user  # noqa: E402
from harness.outbox_burst import (  # noqa: E402
    check_delivery,
    flaky_burst,
    install_app_for,
    kill_mid_burst,
    recipients,
)
from harness.round_robin import RoundRobinProxy  # noqa: E402
from harness.tcp_proxy import TcpProxy  # noqa: E402

log = logging.getLogger("chaos")

POSTGRES_URL = os.environ.get(
    "HANDOFF_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
FAST_RETRIES = {
    "OUTBOX_BACKOFF_SECONDS": "0.05",
    "OUTBOX_BACKOFF_CAP_SECONDS": "0.5",
    "OUTBOX_POLL_SECONDS": "0.1",
    "OUTBOX_MAX_ATTEMPTS": "60",
}
OUTAGE_SECONDS = 10.0
DEADLINE_SECONDS = 5.0


@dataclass
class Row:
    scenario: str
    requests: int
    failures: int
    lost: int
    duplicated: int
    note: str = ""


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    name = f"handoff_chaos_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await admin.close()
    try:
        yield urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{name}"))
    finally:
        admin = await asyncpg.connect(POSTGRES_URL, timeout=5)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def flaky_connector(work: Path) -> Row:
    with FakeConnector() as connector:
        url = f"sqlite:///{work / 'flaky.db'}"
        bot = BotProcess(bot_environment(url, **FAST_RETRIES), work / "flaky.log")
        people = recipients(5, "flaky")
        try:
            await bot.start_ready()
            async with aiohttp.ClientSession() as session:
                post = BotClient(bot.url, session).post
                expected = await flaky_burst(post, connector, url, people, 20, "flaky", timeout=120)
        finally:
            bot.stop()
        d = check_delivery(connector, expected, "flaky")
        return Row(
            "connector refuses 30% (429/503)",
            d.expected + d.failures,
            d.failures,
            d.lost,
            d.duplicated,
            f"{d.delivered} shown of {d.expected} messages to {len(people)} chats; "
            f"out of order {d.out_of_order}; resends {d.resent}",
        )


async def killed_mid_burst(work: Path) -> Row:
    with FakeConnector() as connector, graph_for_processes(connector) as (graph, graph_settings):
        url = f"sqlite:///{work / 'crash.db'}"
        people = recipients(3, "crash")
        install_app_for(graph, people)
        crash = await kill_mid_burst(
            connector,
            url,
            work / "crash.log",
            people,
            30,
            "crash",
            kill_after=30,
            settings={**FAST_RETRIES, **graph_settings},
        )
        d = check_delivery(connector, crash.expected, "crash")
        looked_up = sum(1 for r in graph.requests if "/messages" in r.path)
        return Row(
            "SIGKILL mid-burst, restart",
            d.expected + d.failures,
            d.failures,
            d.lost,
            d.duplicated,
            f"killed after {crash.sent_at_kill}/{d.expected} shown; sends in flight at the "
            f"kill {len(crash.in_doubt)}, looked for through Graph {looked_up}; "
            f"out of order {d.out_of_order}; resends {d.resent}",
        )


async def redelivered_thrice(work: Path) -> Row:
    """Teams resends a message it got no quick answer to, with its id and sometimes with a
    new id: every message arrives three times at once, and must be answered once."""
    with FakeConnector() as connector:
        bot = BotProcess(bot_environment(f"sqlite:///{work / 'redelivered.db'}"), work / "r.log")
        people = recipients(10, "redelivered")
        start = datetime.now(UTC)
        # A person's own messages differ by the client's send time.
        messages = [
            p.says("help", connector.url, overrides={"localTimestamp": at.isoformat()})
            for p in people
            for at in (start + timedelta(seconds=n) for n in range(3))
        ]
        try:
            await bot.start_ready()
            async with aiohttp.ClientSession() as session:
                post = BotClient(bot.url, session).post
                baseline = await answers_to(post, connector, [messages[0]])
                redelivered = [
                    [m, dict(m), {**m, "id": f"f:{secrets.token_hex(8)}"}] for m in messages[1:]
                ]
                counts = await asyncio.gather(
                    *(answers_to(post, connector, d) for d in redelivered)
                )
        finally:
            bot.stop()
    lost, duplicated = tally(counts, baseline)
    return Row(
        "Teams delivers each message 3x",
        1 + 3 * len(redelivered),
        0,
        lost,
        duplicated,
        f"{len(redelivered)} messages, each sent with its id twice and a new id once, at "
        f"once; answers per message {baseline} (measured on one delivered once)",
    )


def tally(answers: list[int], baseline: int) -> tuple[int, int]:
    """Lost and duplicated, from the answers each message got: a message with none is lost,
    and every answer beyond those of a message delivered once (`baseline`) is a duplicate."""
    lost = sum(1 for n in answers if n == 0)
    duplicated = sum(max(0, n - baseline) for n in answers)
    return lost, duplicated


async def answers_to(
    post: Callable[[dict[str, Any]], Awaitable[Any]],
    connector: FakeConnector,
    deliveries: list[dict[str, Any]],
) -> int:
    """Delivers a message as `deliveries` (at once) and counts the bot's answers to them."""
    await asyncio.gather(*(post(d) for d in deliveries))
    ids = {d["id"] for d in deliveries}
    conversation = deliveries[0]["conversation"]["id"]
    await asyncio.sleep(0.5)  # answers come within the turn; a late second one is a repeat
    return sum(
        1
        for r in connector.activity_records(conversation)
        if r.method == "POST" and r.path.rsplit("/", 1)[-1] in ids
    )


async def outbox_rows(url: str) -> list[dict[str, object]]:
    store = await open_store(url, SystemClock())
    try:
        for _ in range(200):
            rows = await store.database.fetch_all(
                "SELECT state, attempts, not_before <= now() AS due FROM outbox"
            )
            if not any(r["state"] == "pending" and r["due"] for r in rows):
                return rows
            await asyncio.sleep(0.1)
        return rows
    finally:
        await store.close()


async def two_replicas(work: Path) -> Row:
    case = "2311230040007777"
    async with postgres_database() as url:
        with FakeConnector() as connector:
            env = bot_environment(url, OUTBOX_POLL_SECONDS="0.1")
            bots = [BotProcess(env, work / f"replica-{n}.log") for n in range(2)]
            proxy = RoundRobinProxy([b.url for b in bots])
            try:
                for bot in bots:
                    bot.start()
                await asyncio.gather(*(b.wait_ready() for b in bots))
                await proxy.start()
                async with aiohttp.ClientSession() as session:
                    client = BotClient(proxy.url, session)
                    card, message_id = await handoff_card(client, connector, case)
                    people = [fake_user(f"Chaos Clicker {n:02d}") for n in range(50)]
                    answers = await asyncio.gather(
                        *(
                            client.post(accept_invoke(connector, card, message_id, p))
                            for p in people
                        )
                    )
                rows = await outbox_rows(url)
            finally:
                await proxy.close()
                for bot in bots:
                    bot.stop()
            store = await open_store(url, SystemClock())
            try:
                handoff = await store.latest_for_case(case)
                accepts = (
                    [e.kind for e in await store.history(handoff.id)].count("accept")
                    if handoff
                    else 0
                )
            finally:
                await store.close()
    failures = sum(1 for status, _ in answers if status != 200)
    twice = sum(1 for r in rows if r["state"] == "done" and r["attempts"] != 1)
    unfinished = sum(1 for r in rows if r["state"] != "done" and r["due"])
    lost = (0 if handoff and handoff.owner else 1) + unfinished
    resends = sum(connector.resent.values())
    served = "/".join(str(n) for n in proxy.served.values())
    return Row(
        "2 replicas, 50 Accepts at once",
        sum(proxy.served.values()),
        failures,
        lost,
        # What people would see twice: a second owner, a message sent again.
        max(accepts - 1, 0) + resends,
        f"requests per replica {served}; accepts recorded {accepts}; outbox jobs {len(rows)}, "
        f"claimed more than once {twice}, unfinished {unfinished}; resends {resends}",
    )


async def postgres_outage(work: Path) -> Row:
    case, later = "2311230040008888", "2311230040008889"
    async with postgres_database() as url:
        with FakeConnector() as connector, TcpProxy("127.0.0.1", urlsplit(url).port or 5432) as tcp:
            parts = urlsplit(url)
            user = parts.netloc.rpartition("@")[0]
            proxied = urlunsplit(parts._replace(netloc=f"{user}@127.0.0.1:{tcp.port}"))
            env = bot_environment(
                proxied,
                DATABASE_TIMEOUT_SECONDS="2",
                REQUEST_DEADLINE_SECONDS=str(DEADLINE_SECONDS),
                **FAST_RETRIES,
            )
            bot = BotProcess(env, work / "outage.log")
            requests = failures = told_try_again = outage_requests = 0
            slowest = 0.0
            not_ready = False
            try:
                await bot.start_ready()
                async with aiohttp.ClientSession() as session:
                    client = BotClient(bot.url, session)
                    card, message_id = await handoff_card(client, connector, case)
                    tcp.cut()
                    loop = asyncio.get_running_loop()
                    ends = loop.time() + OUTAGE_SECONDS
                    before = len(connector.activities())
                    while loop.time() < ends:
                        started = loop.time()
                        status, _ = await client.post(
                            activities.personal_message(f"status {case}", connector.url)
                        )
                        slowest = max(slowest, loop.time() - started)
                        requests += 1
                        failures += status >= 500
                        not_ready = not_ready or await client.ready() == 503
                    told = await connector.wait_for_activities(before + requests, timeout=30)
                    clear = sum(
                        1 for a in told[before:] if a.get("text") == messages.database_down()
                    )
                    failures += requests - clear
                    told_try_again, outage_requests = clear, requests
                    tcp.restore()
                    for _ in range(100):
                        if await client.ready() == 200:
                            break
                        await asyncio.sleep(0.1)
                    status, _ = await client.post(
                        accept_invoke(connector, card, message_id, fake_user("Back Again"))
                    )
                    requests += 1
                    failures += status != 200
                    await request_handoff(client, connector, later)
                    await posted_card(connector, later)
            finally:
                bot.stop()
            store = await open_store(url, SystemClock())
            try:
                first = await store.latest_for_case(case)
                second = await store.latest_for_case(later)
            finally:
                await store.close()
    lost = (0 if first and first.owner else 1) + (0 if second else 1)
    errors = log_errors(work / "outage.log")
    extra_cards = sum(max(len(shown_cards(connector, c)) - 1, 0) for c in (case, later))
    resends = sum(connector.resent.values())
    return Row(
        f"PostgreSQL cut {OUTAGE_SECONDS:g} s under traffic",
        requests,
        failures,
        lost,
        # A card shown twice is a resend too, so count whichever is larger, not both.
        max(extra_cards, resends),
        f"told 'try again' {told_try_again}/{outage_requests}; slowest {slowest:.2f} s "
        f"(deadline {DEADLINE_SECONDS:g}); readyz 503: {not_ready}; resends {resends}; "
        f"log: {errors}",
    )


@dataclass(frozen=True)
class LogErrors:
    """What a bot's log holds: ERROR (and CRITICAL) lines per logger, and the lines that carry
    a traceback per logger, whatever their level."""

    errors: Counter[str]
    tracebacks: Counter[str]

    def __str__(self) -> str:
        def counts(counter: Counter[str]) -> str:
            each = ", ".join(f"{name} {n}" for name, n in counter.most_common())
            return f"{counter.total()} ({each})"

        errors, tracebacks = counts(self.errors), counts(self.tracebacks)
        return f"ERROR lines {errors}, lines with a traceback {tracebacks}"


def log_errors(path: Path) -> LogErrors:
    """Reads a bot's log (JSON lines; anything else, such as a crash's plain traceback, counts
    under "(not JSON)")."""
    errors: Counter[str] = Counter()
    tracebacks: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if line.startswith("Traceback"):
                errors["(not JSON)"] += 1
                tracebacks["(not JSON)"] += 1
            continue
        if not isinstance(record, dict):
            continue
        name = str(record.get("name"))
        if record.get("level") in ("ERROR", "CRITICAL"):
            errors[name] += 1
        if record.get("exc_info"):
            tracebacks[name] += 1
    return LogErrors(errors, tracebacks)


def shown_cards(connector: FakeConnector, case: str) -> list[dict[str, object]]:
    """The case's cards posted to the channel, every post the connector accepted."""
    return [
        a
        for a in connector.activities(DEFAULT_CHANNEL_ID)
        if not a.get("id") and case in str(a.get("attachments"))
    ]


def table(rows: list[Row]) -> str:
    head = ("scenario", "requests", "failures", "lost", "duplicated", "notes")
    cells = [
        head,
        *[
            (r.scenario, str(r.requests), str(r.failures), str(r.lost), str(r.duplicated), r.note)
            for r in rows
        ],
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(head))).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


Scenario = Callable[[Path], Awaitable[Row]]
SCENARIOS: tuple[Scenario, ...] = (
    flaky_connector,
    killed_mid_burst,
    redelivered_thrice,
    two_replicas,
    postgres_outage,
)


def pick(names: list[str]) -> tuple[list[Scenario], list[str]]:
    """The scenarios named on the command line, in that order (all of them when none is), and
    the names that are no scenario."""
    known = {scenario.__name__: scenario for scenario in SCENARIOS}
    unknown = [name for name in names if name not in known]
    chosen = [known[name] for name in names if name in known] if names else list(SCENARIOS)
    return chosen, unknown


def scenario_failed(name: str, error: Exception) -> Row:
    """The row of a scenario that broke before it could count: neither lost nor duplicated
    is known, so it can never pass for a clean run."""
    return Row(name, 0, 1, -1, -1, f"FAILED: {error}"[:200])


def exit_status(rows: list[Row]) -> int:
    """1 when any scenario lost or doubled something (or could not tell), else 0."""
    bad = [r for r in rows if r.lost != 0 or r.duplicated != 0]
    return 1 if bad else 0


async def main(names: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    scenarios, unknown = pick(names)
    if unknown:
        known = ", ".join(scenario.__name__ for scenario in SCENARIOS)
        log.error("unknown scenario %s; the scenarios are %s", unknown, known)
        return 2
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="handoff-chaos-") as folder:
        work = Path(folder)
        for scenario in scenarios:
            try:
                rows.append(await scenario(work))
            except Exception as error:
                log.exception("scenario %s failed", scenario.__name__)
                rows.append(scenario_failed(scenario.__name__, error))
    print(table(rows))  # the script's output is this table
    return exit_status(rows)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
