"""`make bench`: the bot side by side with two reference echo bots, on loopback.

Starts, each as its own process: a fake Bot Connector (plain HTTP and HTTPS), the bot on
SQLite and then on PostgreSQL (a database made for the run and dropped after), the
botbuilder 4.17 echo bot and the Microsoft 365 Agents SDK echo bot (bench/.venv-ref), and a
load generator per measured run. Every run is bounded (a session count and a time limit),
warmed up, and repeated three times; the table shows min/median/max turns/s and the median
run's latencies. Every process it started is stopped by its PID, whatever happens.

    .venv/bin/python bench/run.py [--handoffs 1000000] [--seconds 4] [--only insights]

``--only insights`` measures the insights commands alone (no reference bots, no other
scenario); ``--postgres-handoffs`` seeds fewer handoffs on PostgreSQL for a quicker run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench.databases import (  # noqa: E402
    create_postgres_database,
    drop_postgres_database,
    sqlite_database,
)
from bench.measuring import REPETITIONS, Row  # noqa: E402
from bench.processes import DATA, REF_PYTHON, Bot, Processes, start_connector  # noqa: E402
from bench.report import log, print_table, print_targets, progress  # noqa: E402
from bench.scenarios import REQUESTERS, run_insights, run_ours, run_reference  # noqa: E402
from bench.seed import Layout, seed  # noqa: E402

from harness.ids import DEFAULT_CHANNEL_ID  # noqa: E402


def main() -> int:
    # The bench's own progress; the bot's modules it imports (seeding) only when they warn.
    logging.basicConfig(level=logging.WARNING, format="[bench] %(message)s", stream=sys.stderr)
    progress.setLevel(logging.INFO)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handoffs", type=int, default=1_000_000)
    # COPY of a million handoffs (3.5 GB with their events) takes minutes on this machine
    # kind; PostgreSQL gets a quarter of that unless asked, to keep `make bench` bounded.
    parser.add_argument("--postgres-handoffs", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=4.0, help="time bound of each run")
    parser.add_argument("--only", choices=["insights"], help="run this scenario alone")
    args = parser.parse_args()
    if not REF_PYTHON.exists() and args.only is None:
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

        def run_bot(name: str, url: str, seeded: Layout, *, full: bool) -> tuple[Bot, list[Row]]:
            if args.only == "insights":
                return run_insights(name, processes, connector, url, seeded, args.seconds)
            return run_ours(name, processes, connector, url, seeded, args.seconds, full)

        if args.only is None:
            log("reference: botbuilder echo bot")
            rows += run_reference(
                "botbuilder-echo", "ref_botbuilder_echo.py", processes, connector, args.seconds
            )
            log("reference: Agents SDK echo bot")
            rows += run_reference(
                "agents-echo", "ref_agents_echo.py", processes, connector, args.seconds
            )
        log("handoff bot on SQLite")
        sqlite_url = f"sqlite:///{sqlite_file}"
        bot, sqlite_rows = run_bot("handoff-bot sqlite", sqlite_url, layout, full=True)
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
        bot, pg_rows = run_bot("handoff-bot postgres", pg_url, pg_layout, full=False)
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
