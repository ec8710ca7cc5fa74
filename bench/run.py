"""`make bench` and `make bench-quick`: the bot side by side with two reference echo bots, on
loopback, pinned as production runs it.

Starts, each as its own process: a fake Bot Connector (plain HTTP and HTTPS), the bot on
SQLite and then on PostgreSQL (a database copied for the run from a seeded template and dropped
after), the botbuilder 4.17 echo bot and the Microsoft 365 Agents SDK echo bot (bench/.venv-ref),
and a load generator per measured run. Each bot runs on one CPU, the load generator, the fake
connector and the bench on the other (``taskset``; ``--shared`` lets them share every CPU).
Every run is bounded (a session count and a time limit) and warmed up; the table shows
min/median/max turns/s and the median run's latencies, then every target MET or MISSED. Every
process it started is stopped by its PID, whatever happens.

    .venv/bin/python bench/run.py [--quick] [--handoffs 1000000] [--seconds 4] [--only NAME]

``--quick`` (`make bench-quick`): the same scenarios and targets, shorter runs. ``--only
insights`` measures the insights commands alone (no reference bots, no other scenario),
``--only soak`` the memory soak alone;
``--postgres-handoffs`` seeds fewer handoffs on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import dataclasses
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench.databases import (  # noqa: E402
    drop_postgres_database,
    seeded_postgres_database,
    sqlite_database,
)
from bench.measuring import FULL, QUICK, Measured, Plan, Row  # noqa: E402
from bench.processes import (  # noqa: E402
    DATA,
    PINNING,
    REF_PYTHON,
    Bot,
    Pinning,
    Processes,
    set_pinning,
    start_connector,
)
from bench.report import log, print_table, print_targets, progress  # noqa: E402
from bench.scenarios import (  # noqa: E402
    REQUESTERS,
    run_insights,
    run_ours,
    run_reference,
    run_soak_alone,
)
from bench.seed import Layout  # noqa: E402

from harness.ids import DEFAULT_CHANNEL_ID  # noqa: E402


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (make bench-quick)")
    parser.add_argument("--handoffs", type=int, default=1_000_000)
    parser.add_argument("--postgres-handoffs", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, help="time bound of each run")
    parser.add_argument("--soak-turns", type=int, help="turns of the memory soak")
    parser.add_argument("--only", choices=["insights", "soak"], help="run this scenario alone")
    parser.add_argument(
        "--shared", action="store_true", help="no pinning: every process on every CPU"
    )
    return parser.parse_args()


def main() -> int:
    # The bench's own progress; the bot's modules it imports (seeding) only when they warn.
    logging.basicConfig(level=logging.WARNING, format="[bench] %(message)s", stream=sys.stderr)
    progress.setLevel(logging.INFO)
    args = arguments()
    plan = QUICK if args.quick else FULL
    if args.seconds is not None:
        plan = dataclasses.replace(plan, seconds=args.seconds)
    if args.soak_turns is not None:
        plan = dataclasses.replace(plan, soak_turns=args.soak_turns)
    if not REF_PYTHON.exists() and args.only is None:
        raise SystemExit("bench/.venv-ref is missing: run `make bench` (it installs it)")
    set_pinning(Pinning.choose(pinned=not args.shared))
    log(PINNING.why)
    (DATA / "logs").mkdir(parents=True, exist_ok=True)
    layout = Layout(
        total=args.handoffs,
        open_emea=100,
        accept_pool=4000,
        requesters=REQUESTERS,
        channel_id=DEFAULT_CHANNEL_ID,
    )
    pg_layout = dataclasses.replace(layout, total=min(args.postgres_handoffs, args.handoffs))
    began = time.perf_counter()
    rows, measured = measure_all(args, plan, layout, pg_layout)
    refs = {
        (row.target, row.scenario): statistics.median(r.turns_per_s for r in row.runs)
        for row in rows
        if row.target.endswith("echo")
    }
    print(
        f"\n{plan.name}: {os.cpu_count()} CPUs, loopback, {PINNING.why}; {plan.repetitions} "
        f"runs per row of at most {plan.seconds:g} s; turns/s min/median/max, the rest from "
        "the median run"
    )
    print_table(rows, refs)
    print_targets(measured, refs)
    print("\nstart-up to /readyz: " + ", ".join(f"{m.name} {m.startup_s:.2f} s" for m in measured))
    print(f"bench took {time.perf_counter() - began:.0f} s")
    return 0


def measure_all(
    args: argparse.Namespace, plan: Plan, layout: Layout, pg_layout: Layout
) -> tuple[list[Row], list[Measured]]:
    processes = Processes()
    rows: list[Row] = []
    measured: list[Measured] = []
    # Both databases made first, at the same time (gigabytes copied on each side), so that no
    # copy runs beside a measurement.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pg_made = pool.submit(asyncio.run, seeded_postgres_database(pg_layout))
        try:
            sqlite_file = sqlite_database(layout)
        except BaseException:
            asyncio.run(drop_postgres_database(pg_made.result()[0]))
            raise
        pg_name, pg_url = pg_made.result()
    try:
        connector = start_connector(processes)

        def run_bot(name: str, url: str, seeded: Layout, *, full: bool) -> tuple[Bot, Measured]:
            if args.only == "insights":
                return run_insights(name, processes, connector, url, seeded, plan)
            if args.only == "soak":
                return run_soak_alone(name, processes, connector, url, seeded, plan)
            return run_ours(name, processes, connector, url, seeded, plan, full)

        if args.only is None:
            log("reference: botbuilder echo bot")
            rows += run_reference(
                "botbuilder-echo", "ref_botbuilder_echo.py", processes, connector, plan
            )
            log("reference: Agents SDK echo bot")
            rows += run_reference("agents-echo", "ref_agents_echo.py", processes, connector, plan)
        for name, url, seeded, full in (
            ("handoff-bot sqlite", f"sqlite:///{sqlite_file}", layout, True),
            ("handoff-bot postgres", pg_url, pg_layout, False),
        ):
            log(f"{name}: {seeded.total:,} handoffs")
            bot, ours = run_bot(name, url, seeded, full=full)
            processes.stop(bot.process)
            measured.append(ours)
            rows += ours.rows
    finally:
        processes.stop_all()
        asyncio.run(drop_postgres_database(pg_name))
    return rows, measured


if __name__ == "__main__":
    sys.exit(main())
