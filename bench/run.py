"""`make bench`: the bot side by side with two reference echo bots, on loopback.

Starts, each as its own process: a fake Bot Connector (plain HTTP and HTTPS), the bot on
SQLite and then on PostgreSQL (a database made for the run and dropped after), the
botbuilder 4.17 echo bot and the Microsoft 365 Agents SDK echo bot (bench/.venv-ref), and a
load generator per measured run. Every run is bounded (a session count and a time limit),
warmed up, and repeated three times; the table shows min/median/max turns/s and the median
run's latencies. Every process it started is stopped by its PID, whatever happens.

    .venv/bin/python bench/run.py [--handoffs 1000000] [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import asyncpg  # noqa: E402

from bench.seed import Layout, seed  # noqa: E402

from harness import activities  # noqa: E402
from harness.ids import DEFAULT_CHANNEL_ID  # noqa: E402

BENCH = ROOT / "bench"
DATA = BENCH / ".data"
REF_PYTHON = BENCH / ".venv-ref" / "bin" / "python"
POSTGRES_ADMIN_URL = os.environ.get(
    "HANDOFF_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REPETITIONS = 3
START_TIMEOUT = 60.0
LOAD_TIMEOUT = 300.0
ACCEPT_CLICKERS = 20
HELP_CONCURRENCY = 32
REQUESTERS = 200
# The bench's engineers. Each person's chat may take 60 sends in 30 s (teams/pacing.py): with
# 64 people a bot doing more than 128 turns/s measured the pacing instead of itself.
PEOPLE = 1024

# (what, target, unit)
TARGETS = {
    "startup_s": 1.5,
    "cpu_ms_per_turn_c1": 2.0,
    "accept_p99_ms": 30.0,
    "status_p99_ms": 10.0,
    "list_p99_ms": 20.0,
    "rss_mb": 120.0,
    "ratio_botbuilder": 10.0,
    "ratio_agents": 1.0,
}


# -- processes ---------------------------------------------------------------------------


class Processes:
    """Every process the bench starts; :meth:`stop_all` ends each by its PID."""

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (DATA / "logs" / f"{name}.log").open("wb")
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        self._running.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process in self._running:
            self._running.remove(process)

    def stop_all(self) -> None:
        for process in list(reversed(self._running)):
            self.stop(process)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> float:
    """Seconds from now until GET /readyz answers 200."""
    started = time.perf_counter()
    while time.perf_counter() - started < START_TIMEOUT:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited while starting; see bench/.data/logs/")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer,
        ):
            if answer.status == 200:
                return time.perf_counter() - started
        time.sleep(0.02)
    raise SystemExit(f"{url} was not ready within {START_TIMEOUT} s")


def cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the fake connector ------------------------------------------------------------------


@dataclass
class Connector:
    process: subprocess.Popen[bytes]
    http_port: int
    https_port: int
    ca_file: Path

    def url(self, tls: bool) -> str:
        scheme, port = ("https", self.https_port) if tls else ("http", self.http_port)
        return f"{scheme}://127.0.0.1:{port}/"

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = get_json(f"http://127.0.0.1:{self.http_port}/_stats")
        return stats

    def last_activities(self) -> list[dict[str, Any]]:
        last: list[dict[str, Any]] = get_json(f"http://127.0.0.1:{self.http_port}/_last")
        return last

    def settle(self, quiet: float = 0.6, limit: float = 8.0) -> None:
        """Waits until the bot's background sends (the outbox) stop arriving."""
        started = time.perf_counter()
        seen = self.stats()["requests"]
        calm_since = time.perf_counter()
        while time.perf_counter() - started < limit:
            time.sleep(0.1)
            now = self.stats()["requests"]
            if now != seen:
                seen, calm_since = now, time.perf_counter()
            elif time.perf_counter() - calm_since >= quiet:
                return


def start_connector(processes: Processes) -> Connector:
    state, ca_file = DATA / "connector.json", DATA / "connector-ca.pem"
    state.unlink(missing_ok=True)
    command = [sys.executable, str(BENCH / "fake_connector.py"), str(state), str(ca_file)]
    process = processes.start("fake-connector", command, dict(os.environ))
    deadline = time.perf_counter() + START_TIMEOUT
    while not state.exists():
        if process.poll() is not None or time.perf_counter() > deadline:
            raise SystemExit("the fake connector did not start; see bench/.data/logs/")
        time.sleep(0.05)
    ports = json.loads(state.read_text())
    return Connector(process, ports["http"], ports["https"], ca_file)


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Run:
    turns_per_s: float
    p50: float
    p99: float
    cpu_ms: float
    calls: float
    connections: float
    errors: dict[str, int]


@dataclass
class Row:
    scenario: str
    target: str
    runs: list[Run] = field(default_factory=list)
    rss: float = 0.0
    note: str = ""

    def median_run(self) -> Run:
        ordered = sorted(self.runs, key=lambda r: r.turns_per_s)
        return ordered[len(ordered) // 2]


Session = list[dict[str, Any]]


def load(url: str, sessions: list[Session], concurrency: int, seconds: float) -> dict[str, Any]:
    spec, result = DATA / "load-spec.json", DATA / "load-result.json"
    spec.write_text(
        json.dumps(
            {"url": url, "concurrency": concurrency, "sessions": sessions, "max_seconds": seconds}
        )
    )
    result.unlink(missing_ok=True)
    command = [sys.executable, str(BENCH / "load.py"), str(spec), str(result)]
    subprocess.run(command, cwd=ROOT, check=True, timeout=LOAD_TIMEOUT)
    outcome: dict[str, Any] = json.loads(result.read_text())
    return outcome


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(
    row: Row,
    bot: Bot,
    connector: Connector,
    make_sessions: Any,
    *,
    concurrency: int,
    seconds: float,
    warmup: list[Session],
    background: bool = False,
) -> Row:
    """Warm-up, then three bounded runs, each with its CPU, calls and connections."""
    if warmup:
        load(bot.messages_url, warmup, concurrency, seconds)
        if background:
            connector.settle()
    for _ in range(REPETITIONS):
        sessions = make_sessions()
        before, cpu_before = connector.stats(), cpu_ms(bot.process.pid)
        outcome = load(bot.messages_url, sessions, concurrency, seconds)
        if background:
            connector.settle()
        after, cpu_after = connector.stats(), cpu_ms(bot.process.pid)
        turns = max(outcome["turns"], 1)
        latencies = outcome["latencies_ms"]
        row.runs.append(
            Run(
                turns_per_s=outcome["turns"] / outcome["seconds"],
                p50=percentile(latencies, 0.50),
                p99=percentile(latencies, 0.99),
                cpu_ms=(cpu_after - cpu_before) / turns,
                calls=(after["requests"] - before["requests"]) / turns,
                connections=(after["connections"] - before["connections"]) / turns,
                errors=outcome["errors"],
            )
        )
    row.rss = max(row.rss, rss_mb(bot.process.pid))
    return row


# -- the bots ----------------------------------------------------------------------------


@dataclass
class Bot:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    startup_s: float

    @property
    def messages_url(self) -> str:
        return f"{self.url}/api/messages"


def bot_environment(port: int, database_url: str, ca_file: Path) -> dict[str, str]:
    """The handoff bot's settings for a bench run: local mode, the given database, and trust
    in the fake connector's CA (the bot's connector client reads it as the SDK's requests did)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("Microsoft")}
    env.update(
        {
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "INFO",
            "REQUESTS_CA_BUNDLE": str(ca_file),
        }
    )
    return env


def start_ours(processes: Processes, name: str, database_url: str, connector: Connector) -> Bot:
    port = free_port()
    env = bot_environment(port, database_url, connector.ca_file)
    started = time.perf_counter()
    process = processes.start(name, [sys.executable, "app.py"], env)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    return Bot(name, process, url, time.perf_counter() - started)


def start_reference(processes: Processes, name: str, script: str, connector: Connector) -> Bot:
    port = free_port()
    env = dict(os.environ)
    env.update(
        {"REQUESTS_CA_BUNDLE": str(connector.ca_file), "SSL_CERT_FILE": str(connector.ca_file)}
    )
    started = time.perf_counter()
    process = processes.start(name, [str(REF_PYTHON), str(BENCH / script), str(port)], env)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    return Bot(name, process, url, time.perf_counter() - started)


# -- scenarios ---------------------------------------------------------------------------


def people() -> Iterator[str]:
    """The bench's engineers, round and round (the help warm-up met them all)."""
    return (f"29:bench-user-{n % PEOPLE}" for n in itertools.count())


def help_sessions(service_url: str, count: int, text: str = "help") -> list[Session]:
    return [
        # A steady state: the same people come back (each one's first turn writes its
        # conversation and dialog state; the warm-up takes those).
        [activities.personal_message(text, service_url, user_id=f"29:bench-user-{n % PEOPLE}")]
        for n in range(count)
    ]


def last_form(connector: Connector) -> str:
    for activity in reversed(connector.last_activities()):
        for attachment in activity.get("attachments") or []:
            for action in (attachment.get("content") or {}).get("actions") or []:
                form = (action.get("data") or {}).get("form")
                if form:
                    return str(form)
    return ""


# The example handoff every harness shares (playground/scenario.json), its next contact far
# enough ahead that no run's clock passes it.
_FORMS: dict[str, dict[str, str]] = json.loads(
    (ROOT / "playground" / "scenario.json").read_text(encoding="utf-8")
)["forms"]
CASE_FORM = _FORMS["case"]
TRANSFER_FORM = _FORMS["transfer"]
NOTES_FORM = {**_FORMS["notes"], "next_contact_date": "2030-11-25"}


def submission(service_url: str, case: str, user: str, meeting: bool) -> Session:
    def submit(form: str, values: dict[str, Any]) -> dict[str, Any]:
        value = {"form": form, "action": "next", **values}
        return activities.submit_message(value, service_url, user_id=user, user_name="Bench User")

    turns = [
        activities.personal_message(f"handoff {case}", service_url, user_id=user),
        submit("case", CASE_FORM),
        submit("transfer", TRANSFER_FORM),
        submit("notes", NOTES_FORM),
    ]
    if meeting:
        turns.append(submit("meeting", {"can_attend": "yes"}))
    turns.append(submit("review", {}))
    return turns


class Cases:
    """Fresh case numbers and users for handoff submissions (never used twice in a run)."""

    def __init__(self) -> None:
        self._next = 0

    def take(self) -> tuple[str, str]:
        self._next += 1
        return f"2{self._next:015d}", f"29:bench-submitter-{self._next}"


def probe_meeting_step(bot: Bot, connector: Connector, service_url: str, cases: Cases) -> bool:
    """Whether the dialog asks about the handoff meeting now (it depends on the schedule)."""
    case, user = cases.take()
    turns = submission(service_url, case, user, meeting=False)
    load(bot.messages_url, [turns[:4]], 1, 30)
    connector.settle(quiet=0.3)
    meeting = last_form(connector) == "meeting"
    rest = submission(service_url, case, user, meeting)[4:]
    load(bot.messages_url, [rest], 1, 30)
    return meeting


def accept_sessions(
    service_url: str, layout: Layout, pool: Iterator[int], count: int, version: int
) -> list[Session]:
    sessions = []
    for n, i in zip(range(count), pool, strict=False):
        clicker = f"29:bench-clicker-{n % ACCEPT_CLICKERS}"
        invoke = activities.card_action_invoke(
            "accept",
            {"handoff_id": layout.handoff_id(i), "version": version},
            service_url,
            layout.card_activity(i),
            scope="channel",
            user_id=clicker,
            user_name=f"Clicker {n % ACCEPT_CLICKERS}",
            aad_object_id=str(uuid.uuid5(uuid.NAMESPACE_URL, clicker)),
        )
        sessions.append([invoke])
    return sessions


def bind_channel_and_requesters(
    bot: Bot, connector: Connector, service_url: str, layout: Layout
) -> None:
    """What Teams would have sent before: the bot added to the team, `setup` in the channel,
    and each requester once in a personal chat (so the bot can tell them of the accept)."""
    turns = [
        [activities.bot_added_to_team(service_url)],
        [activities.channel_message("setup", service_url)],
    ]
    load(bot.messages_url, turns, 1, 60)
    requesters = [
        [activities.personal_message("help", service_url, user_id=f"29:bench-requester-{n}")]
        for n in range(layout.requesters)
    ]
    load(bot.messages_url, requesters, 8, 60)
    connector.settle()


async def seeded_version(database_url: str, layout: Layout) -> int:
    """The version the seeded open handoffs' cards carry."""
    from handoff.ports import SystemClock
    from storage.sql_store import open_store  # the bot's own reading of its rows

    store = await open_store(database_url, SystemClock())
    try:
        handoff = await store.get(layout.handoff_id(layout.open_emea))
        return handoff.version
    finally:
        await store.close()


def run_ours(
    name: str,
    processes: Processes,
    connector: Connector,
    database_url: str,
    layout: Layout,
    seconds: float,
    full: bool,
) -> tuple[Bot, list[Row]]:
    rows: list[Row] = []
    bot = start_ours(processes, name, database_url, connector)
    https = connector.url(tls=True)
    protocols = [("HTTP", False), ("HTTPS", True)] if full else [("HTTPS", True)]
    for label, tls in protocols:
        url = connector.url(tls)
        rows.append(
            measure(
                Row(f"help, {label} connector, c={HELP_CONCURRENCY}", name),
                bot,
                connector,
                lambda url=url: help_sessions(url, 8000),
                concurrency=HELP_CONCURRENCY,
                seconds=seconds,
                # Meets everyone once: a person's first turn also stores their chat's address.
                warmup=help_sessions(url, PEOPLE),
            )
        )
    rows.append(
        measure(
            Row("help, HTTPS connector, c=1", name),
            bot,
            connector,
            lambda: help_sessions(https, 3000),
            concurrency=1,
            seconds=seconds,
            warmup=help_sessions(https, 100),
        )
    )
    # The database scenarios first: the submissions and accepts leave the outbox a backlog
    # (the Case Transfer channel is paced to Teams' 7 sends/s) that would run beside them.
    rng = random.Random(7)

    def status_sessions(count: int) -> list[Session]:
        picks = (rng.randrange(layout.total) for _ in range(count))
        # Many people asking, as at a shift change: one person's chat is paced to Teams'
        # 7 messages/s, which would measure the pacing instead.
        return [
            [activities.personal_message(f"status {layout.case_number(i)}", https, user_id=user)]
            for i, user in zip(picks, people(), strict=False)
        ]

    rows.append(
        measure(
            Row(f"status, {layout.total:,} handoffs, c=1", name),
            bot,
            connector,
            lambda: status_sessions(3000),
            concurrency=1,
            seconds=seconds,
            warmup=status_sessions(50),
        )
    )
    rows.append(
        measure(
            Row(f"list EMEA ({layout.open_emea} open), c=1", name),
            bot,
            connector,
            lambda: [
                [activities.personal_message("list EMEA", https, user_id=user)]
                for _, user in zip(range(3000), people(), strict=False)
            ],
            concurrency=1,
            seconds=seconds,
            warmup=[
                [activities.personal_message("list EMEA", https, user_id=user)]
                for _, user in zip(range(100), people(), strict=False)
            ],
        )
    )
    bind_channel_and_requesters(bot, connector, https, layout)
    if full:
        cases = Cases()
        meeting = probe_meeting_step(bot, connector, https, cases)
        per = 6 if meeting else 5

        def submissions(count: int) -> list[Session]:
            return [submission(https, *cases.take(), meeting) for _ in range(count)]

        row = measure(
            Row(f"handoff submission ({per} turns), c=8", name),
            bot,
            connector,
            lambda: submissions(600),
            concurrency=8,
            seconds=seconds,
            warmup=submissions(16),
            background=True,
        )
        row.note = "per turn; the card is posted by the outbox"
        rows.append(row)
    version = asyncio.run(seeded_version(database_url, layout))
    pool = iter(range(layout.open_emea, layout.open_emea + layout.accept_pool))
    per_run = (layout.accept_pool - 100) // REPETITIONS
    rows.append(
        measure(
            Row(f"Accept invoke, c={ACCEPT_CLICKERS}", name),
            bot,
            connector,
            lambda: accept_sessions(https, layout, pool, per_run, version),
            concurrency=ACCEPT_CLICKERS,
            seconds=seconds * 2,
            warmup=accept_sessions(https, layout, pool, 100, version),
            background=True,
        )
    )
    # The channel card PUTs go out at Teams' 7 sends/s per conversation, after the run.
    rows[-1].note = "refreshed card + PUT + DM; channel PUTs paced at 7/s, partly counted"
    for row in rows:
        row.rss = max(row.rss, rss_mb(bot.process.pid, "VmHWM"))
    return bot, rows


def run_reference(
    name: str, script: str, processes: Processes, connector: Connector, seconds: float
) -> list[Row]:
    bot = start_reference(processes, name, script, connector)
    rows = []
    try:
        for label, tls in (("HTTP", False), ("HTTPS", True)):
            url = connector.url(tls)
            rows.append(
                measure(
                    Row(f"help, {label} connector, c={HELP_CONCURRENCY}", name),
                    bot,
                    connector,
                    lambda url=url: help_sessions(url, 8000),
                    concurrency=HELP_CONCURRENCY,
                    seconds=seconds,
                    warmup=help_sessions(url, 200),
                )
            )
        rows.append(
            measure(
                Row("help, HTTPS connector, c=1", name),
                bot,
                connector,
                lambda: help_sessions(connector.url(True), 2000),
                concurrency=1,
                seconds=seconds,
                warmup=help_sessions(connector.url(True), 50),
            )
        )
    finally:
        processes.stop(bot.process)
    return rows


# -- databases ---------------------------------------------------------------------------


def sqlite_database(layout: Layout) -> Path:
    """A work copy of the seeded SQLite file; the seeded one is cached in bench/.data."""
    migrations = sorted(p.name for p in (ROOT / "storage" / "migrations" / "sqlite").glob("*.sql"))
    stamp = f"{layout.total}-{layout.accept_pool}-{len(migrations)}-{migrations[-1][:4]}"
    cached = DATA / f"seed-{stamp}.sqlite"
    if not cached.exists():
        for old in DATA.glob("seed-*.sqlite*"):
            old.unlink()
        partial = DATA / "seeding.sqlite"
        for leftover in DATA.glob("seeding.sqlite*"):
            leftover.unlink()
        started = time.perf_counter()
        asyncio.run(seed(f"sqlite:///{partial}", layout))
        partial.rename(cached)
        log(
            f"seeded SQLite with {layout.total:,} handoffs in {time.perf_counter() - started:.0f} s"
        )
    work = DATA / "work.sqlite"
    for leftover in DATA.glob("work.sqlite*"):
        leftover.unlink()
    shutil.copyfile(cached, work)
    return work


async def create_postgres_database() -> tuple[str, str]:
    name = f"handoff_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


async def drop_postgres_database(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


# -- the table ---------------------------------------------------------------------------


_progress = logging.getLogger("bench")


def log(message: str) -> None:
    """Progress on standard error; standard output carries only the table."""
    _progress.info(message)


def fmt_runs(row: Row) -> str:
    rates = sorted(r.turns_per_s for r in row.runs)
    return f"{rates[0]:7.0f} {statistics.median(rates):7.0f} {rates[-1]:7.0f}"


def print_table(rows: list[Row], references: dict[tuple[str, str], float]) -> None:
    header = (
        f"{'scenario':44} {'bot':20} {'turns/s min   med   max':>23} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'CPU ms/turn':>11} {'RSS MB':>7} {'calls/turn':>10} "
        f"{'new conn/turn':>13} {'x botbuilder':>12} {'x agents':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        run = row.median_run()
        rate = statistics.median(r.turns_per_s for r in row.runs)
        ratios = []
        for ref in ("botbuilder-echo", "agents-echo"):
            base = references.get((ref, row.scenario))
            ratios.append(f"{rate / base:.1f}" if base and row.target != ref else "")
        errors = sum(sum(r.errors.values()) for r in row.runs)
        print(
            f"{row.scenario:44} {row.target:20} {fmt_runs(row):>23} {run.p50:7.1f} "
            f"{run.p99:7.1f} {run.cpu_ms:11.2f} {row.rss:7.0f} {run.calls:10.2f} "
            f"{run.connections:13.3f} {ratios[0]:>12} {ratios[1]:>8}"
            + (f"  errors: {errors}" if errors else "")
            + (f"  ({row.note})" if row.note else "")
        )


def check(label: str, value: float, target: float, *, at_least: bool = False) -> str:
    met = value >= target if at_least else value <= target
    sign = ">=" if at_least else "<="
    return f"  {'MET ' if met else 'MISS'}  {label}: {value:.2f} (target {sign} {target})"


def print_targets(
    ours: dict[str, list[Row]], startups: dict[str, float], refs: dict[tuple[str, str], float]
) -> None:
    print("\nTargets")
    for name, rows in ours.items():
        print(check(f"{name} start-up to /readyz 200 (s)", startups[name], TARGETS["startup_s"]))
        for row in rows:
            run = row.median_run()
            if row.scenario.startswith(f"help, HTTPS connector, c={HELP_CONCURRENCY}"):
                rate = statistics.median(r.turns_per_s for r in row.runs)
                for ref, key in (
                    ("botbuilder-echo", "ratio_botbuilder"),
                    ("agents-echo", "ratio_agents"),
                ):
                    base = refs.get((ref, row.scenario))
                    if base:
                        print(
                            check(
                                f"{name} help HTTPS turns/s vs {ref} (x)",
                                rate / base,
                                TARGETS[key],
                                at_least=True,
                            )
                        )
            if row.scenario == "help, HTTPS connector, c=1":
                print(
                    check(
                        f"{name} CPU ms/turn, help at c=1",
                        run.cpu_ms,
                        TARGETS["cpu_ms_per_turn_c1"],
                    )
                )
            if row.scenario.startswith("Accept"):
                print(
                    check(
                        f"{name} Accept p99 ms at c={ACCEPT_CLICKERS}",
                        run.p99,
                        TARGETS["accept_p99_ms"],
                    )
                )
            if row.scenario.startswith("status"):
                print(
                    check(
                        f"{name} {row.scenario.removesuffix(', c=1')} p99 ms",
                        run.p99,
                        TARGETS["status_p99_ms"],
                    )
                )
            if row.scenario.startswith("list"):
                print(check(f"{name} list p99 ms", run.p99, TARGETS["list_p99_ms"]))
        print(check(f"{name} peak RSS MB", max(r.rss for r in rows), TARGETS["rss_mb"]))


# -- main --------------------------------------------------------------------------------


def main() -> int:
    # The bench's own progress; the bot's modules it imports (seeding) only when they warn.
    logging.basicConfig(level=logging.WARNING, format="[bench] %(message)s", stream=sys.stderr)
    _progress.setLevel(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handoffs", type=int, default=1_000_000)
    # COPY of a million handoffs (3.5 GB with their events) takes minutes on this machine
    # kind; PostgreSQL gets a quarter of that unless asked, to keep `make bench` bounded.
    parser.add_argument("--postgres-handoffs", type=int, default=250_000)
    parser.add_argument("--seconds", type=float, default=4.0, help="time bound of each run")
    args = parser.parse_args()
    if not REF_PYTHON.exists():
        raise SystemExit("bench/.venv-ref is missing: run `make bench` (it installs it)")
    (DATA / "logs").mkdir(parents=True, exist_ok=True)
    layout = Layout(
        total=args.handoffs,
        open_emea=100,
        accept_pool=4000,
        requesters=REQUESTERS,
        channel_id=DEFAULT_CHANNEL_ID,
    )
    pg_layout = Layout(**{**layout.__dict__, "total": min(args.postgres_handoffs, args.handoffs)})
    processes = Processes()
    pg_name: str | None = None
    rows: list[Row] = []
    ours: dict[str, list[Row]] = {}
    startups: dict[str, float] = {}
    began = time.perf_counter()
    try:
        sqlite_file = sqlite_database(layout)
        connector = start_connector(processes)
        log("reference: botbuilder echo bot")
        rows += run_reference(
            "botbuilder-echo", "ref_botbuilder_echo.py", processes, connector, args.seconds
        )
        log("reference: Agents SDK echo bot")
        rows += run_reference(
            "agents-echo", "ref_agents_echo.py", processes, connector, args.seconds
        )
        log("handoff bot on SQLite")
        bot, sqlite_rows = run_ours(
            "handoff-bot sqlite",
            processes,
            connector,
            f"sqlite:///{sqlite_file}",
            layout,
            args.seconds,
            True,
        )
        startups[bot.name] = bot.startup_s
        processes.stop(bot.process)
        ours[bot.name] = sqlite_rows
        rows += sqlite_rows
        log("PostgreSQL: a bench database, seeded with COPY")
        pg_name, pg_url = asyncio.run(create_postgres_database())
        started = time.perf_counter()
        asyncio.run(seed(pg_url, pg_layout))
        took = time.perf_counter() - started
        log(f"seeded PostgreSQL with {pg_layout.total:,} handoffs in {took:.0f} s")
        log("handoff bot on PostgreSQL")
        bot, pg_rows = run_ours(
            "handoff-bot postgres", processes, connector, pg_url, pg_layout, args.seconds, False
        )
        startups[bot.name] = bot.startup_s
        processes.stop(bot.process)
        ours[bot.name] = pg_rows
        rows += pg_rows
    finally:
        processes.stop_all()
        if pg_name is not None:
            asyncio.run(drop_postgres_database(pg_name))
    refs = {
        (row.target, row.scenario): statistics.median(r.turns_per_s for r in row.runs)
        for row in rows
        if row.target.endswith("echo")
    }
    print(
        f"\nmake bench: {os.cpu_count()} CPUs, loopback; {REPETITIONS} runs per row of at most "
        f"{args.seconds:g} s; turns/s min/median/max, the rest from the median run"
    )
    print_table(rows, refs)
    print_targets(ours, startups, refs)
    print("\nstart-up to /readyz: " + ", ".join(f"{k} {v:.2f} s" for k, v in startups.items()))
    print(f"bench took {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
