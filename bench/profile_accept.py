"""A quick look at what an Accept costs, for working on it (not part of `make bench`).

Starts the fake connector and the bot on a seeded SQLite copy (20,000 handoffs unless told),
binds the Case Transfer channel as bench/scenarios.py does, then measures its Accept row: 20
clickers, each Accept on a card of its own, the outbox's card update and DM counted for a
run's time; then bursts of 20 clicks on one card (one owner, everyone else told who). Prints
CPU ms per Accept, p50/p99, and the bursts' last answer.

    .venv/bin/python bench/profile_accept.py [--handoffs 20000] [--pool 3000] [--seconds 4]
        [--postgres] [--py-spy f.txt] [--profile accept.prof]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# The repository (for bench.*) and tests/ (for the harness the scenarios build activities with).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.crowds import BURST_RESERVE, run_bursts
from bench.databases import drop_postgres_database, seeded_postgres_database, sqlite_database
from bench.measuring import Row, load, measure
from bench.processes import (
    DATA,
    Bot,
    Connector,
    Pinning,
    Processes,
    cpu_ms,
    set_pinning,
    start_connector,
)
from bench.profile_turn import start_bot
from bench.scenarios import (
    ACCEPT_CLICKERS,
    REQUESTERS,
    accept_sessions,
    bind_channel_and_requesters,
    seeded_version,
)
from bench.seed import Layout

from harness.ids import DEFAULT_CHANNEL_ID

# Longer than the 30 s window of Teams' per-conversation pace: the outbox is done.
DRAINED_AFTER = 35.0


def drain(
    bot: Bot,
    connector: Connector,
    https: str,
    layout: Layout,
    pool: Iterator[int],
    count: int,
    version: int,
) -> tuple[float, dict[str, float]] | None:
    """CPU ms and Bot Connector calls (by method) per Accept, all of its work counted: the
    invokes, then everything the outbox does for them. The channel's updates go out at Teams'
    pace (60 in 30 s in one conversation), so the outbox is waited for until it has been quiet
    longer than that; the bot's CPU while idle (the outbox's polls) is taken off."""
    if count <= 0:
        return None
    # A warm-up (the first click's imports and caches), its outbox work done too.
    load(bot.messages_url, accept_sessions(https, layout, pool, 20, version), 20, 60)
    connector.settle(quiet=DRAINED_AFTER, limit=900)
    idle_started, idle_cpu = time.perf_counter(), cpu_ms(bot.process.pid)
    time.sleep(10)
    idle_rate = (cpu_ms(bot.process.pid) - idle_cpu) / (time.perf_counter() - idle_started)
    started, before, cpu_before = time.perf_counter(), connector.stats(), cpu_ms(bot.process.pid)
    load(bot.messages_url, accept_sessions(https, layout, pool, count, version), 20, 120)
    connector.settle(quiet=DRAINED_AFTER, limit=900)
    busy = time.perf_counter() - started - DRAINED_AFTER
    after, cpu_after = connector.stats(), cpu_ms(bot.process.pid)
    cpu = cpu_after - cpu_before - idle_rate * (busy + DRAINED_AFTER)
    calls = {
        method: (n - before["by_method"].get(method, 0)) / count
        for method, n in after["by_method"].items()
    }
    return cpu / count, calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handoffs", type=int, default=20_000)
    parser.add_argument("--pool", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--bursts", type=int, default=5)
    parser.add_argument("--profile", default=None, help="run the bot under cProfile into FILE")
    parser.add_argument("--py-spy", dest="spy", default=None, help="run the bot under py-spy")
    parser.add_argument(
        "--postgres", action="store_true", help="on a seeded PostgreSQL copy instead of SQLite"
    )
    parser.add_argument(
        "--drain",
        type=int,
        default=0,
        help="then N more Accepts, their outbox work (paced channel updates too) waited for",
    )
    parser.add_argument("--shared", action="store_true", help="no pinning, as make bench's")
    args = parser.parse_args()
    set_pinning(Pinning.choose(pinned=not args.shared))
    (DATA / "logs").mkdir(parents=True, exist_ok=True)
    layout = Layout(
        total=args.handoffs,
        open_emea=100,
        accept_pool=args.pool,
        requesters=REQUESTERS,
        channel_id=DEFAULT_CHANNEL_ID,
    )
    processes = Processes()
    postgres: str | None = None
    try:
        if args.postgres:
            postgres, database_url = asyncio.run(seeded_postgres_database(layout))
        else:
            database_url = f"sqlite:///{sqlite_database(layout)}"
        connector = start_connector(processes)
        bot = start_bot(processes, database_url, connector.ca_file, args.spy, args.profile)
        https = connector.url(tls=True)
        bind_channel_and_requesters(bot, connector, https, layout)
        version = asyncio.run(seeded_version(database_url, layout))
        burst = (
            run_bursts(bot, connector, https, database_url, layout, version, args.bursts)
            if args.bursts
            else None
        )
        pool = iter(range(layout.open_emea, layout.open_emea + layout.accept_pool - BURST_RESERVE))
        per_run = (layout.accept_pool - BURST_RESERVE - 120 - args.drain) // max(
            args.repetitions, 1
        )
        row = Row(f"Accept invoke, c={ACCEPT_CLICKERS}", "ours")
        if args.repetitions:
            row = measure(
                row,
                bot,
                connector,
                lambda: accept_sessions(https, layout, pool, per_run, version),
                concurrency=ACCEPT_CLICKERS,
                seconds=args.seconds,
                warmup=accept_sessions(https, layout, pool, 100, version),
                background=True,
                repetitions=args.repetitions,
            )
        drained = drain(bot, connector, https, layout, pool, args.drain, version)
        if args.profile or args.spy:
            # Both write their file when the bot exits on its own (SIGINT), not when killed.
            bot.process.send_signal(signal.SIGINT)
            bot.process.wait(timeout=60)
    finally:
        processes.stop_all()
        if postgres is not None:
            asyncio.run(drop_postgres_database(postgres))
    print(f"\n{'run':>4} {'turns/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>7} {'calls':>6}")
    for n, run in enumerate(row.runs):
        print(
            f"{n:4} {run.turns_per_s:8.0f} {run.p50:7.2f} {run.p99:7.2f} {run.cpu_ms:7.2f} "
            f"{run.calls:6.2f}" + (f"  errors {run.errors}" if run.errors else "")
        )
    if drained is not None:
        calls = ", ".join(f"{n:.2f} {method}" for method, n in sorted(drained[1].items()))
        print(
            f"{args.drain} Accepts with all their outbox work: {drained[0]:.2f} CPU ms each "
            f"(idle CPU taken off); Bot Connector calls each: {calls}"
        )
    if burst is not None:
        last = ", ".join(f"{ms:.0f}" for ms in burst.last_ms)
        print(f"bursts of 20 clicks, last answer ms: {last}; problems: {burst.problems or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
