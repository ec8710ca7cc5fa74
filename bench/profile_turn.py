"""A quick look at one turn's cost, for working on the hot path (not part of `make bench`).

Starts the fake connector and the bot on a seeded SQLite copy (100,000 handoffs unless told;
``--postgres``: a copy of a seeded PostgreSQL template),
sends `help`, `status <case>` and `list EMEA` turns one at a time over the HTTPS connector and
prints CPU ms/turn and p50/p99 per scenario. With ``--py-spy FILE`` the bot runs under
``py-spy record`` (install py-spy in your own venv) and the flame graph lands in FILE.

    .venv/bin/python bench/profile_turn.py [--handoffs 100000] [--turns 1500] [--py-spy f.svg]
        [--profile turn.prof] [--shared] [--only help|status|list] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import signal
import sys
import time
from pathlib import Path

# The repository (for bench.*) and tests/ (for the harness the scenarios build activities with).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.databases import drop_postgres_database, seeded_postgres_database, sqlite_database
from bench.measuring import Row, load, measure
from bench.processes import (
    DATA,
    PINNING,
    Bot,
    Pinning,
    Processes,
    bot_environment,
    free_port,
    set_pinning,
    start_connector,
    wait_ready,
)
from bench.scenarios import PEOPLE, REQUESTERS, people
from bench.seed import Layout

from harness import activities
from harness.ids import DEFAULT_CHANNEL_ID


def start_bot(
    processes: Processes, database_url: str, ca_file: Path, spy: str | None, profile: str | None
) -> Bot:
    port = free_port()
    env = bot_environment(port, database_url, ca_file)
    command = [sys.executable, "app.py"]
    if profile:  # the CPU column then counts cProfile's overhead too
        command[1:1] = ["-m", "cProfile", "-o", profile]
    if spy:  # the CPU column then counts py-spy's own process, not the bot's
        py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        command = [py_spy, "record", "--rate", "500", "--nonblocking", "-o", spy]
        # A .txt file gets collapsed stacks (one per line), which grep and sort can read.
        command += ["--format", "raw"] if spy.endswith(".txt") else []
        command += ["--", sys.executable, "app.py"]
    started = time.perf_counter()
    process = processes.start("profile-bot", PINNING.bot_command(command), env)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    return Bot("profile-bot", process, url, time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handoffs", type=int, default=100_000)
    parser.add_argument("--turns", type=int, default=1500)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--py-spy", dest="spy", default=None)
    parser.add_argument("--profile", default=None, help="run the bot under cProfile into FILE")
    parser.add_argument("--shared", action="store_true", help="no pinning, as make bench's")
    parser.add_argument(
        "--postgres", action="store_true", help="on a seeded PostgreSQL copy instead of SQLite"
    )
    parser.add_argument(
        "--only", choices=("help", "status", "list"), help="measure (and profile) one scenario"
    )
    args = parser.parse_args()
    set_pinning(Pinning.choose(pinned=not args.shared))
    (DATA / "logs").mkdir(parents=True, exist_ok=True)
    layout = Layout(
        total=args.handoffs,
        open_emea=100,
        accept_pool=400,
        requesters=REQUESTERS,
        channel_id=DEFAULT_CHANNEL_ID,
    )
    processes = Processes()
    rows: list[Row] = []
    postgres: str | None = None
    try:
        if args.postgres:
            postgres, url = asyncio.run(seeded_postgres_database(layout))
        else:
            url = f"sqlite:///{sqlite_database(layout)}"
        connector = start_connector(processes)
        bot = start_bot(processes, url, connector.ca_file, args.spy, args.profile)
        # py-spy's sampling thread shares the bot's process group, not its CPU counters.
        https = connector.url(tls=True)
        rng = random.Random(7)

        def chat(text: str) -> list[list[dict[str, object]]]:
            return [
                [activities.personal_message(text, https, user_id=user)]
                for _, user in zip(range(max(args.turns, PEOPLE)), people(), strict=False)
            ]

        def status() -> list[list[dict[str, object]]]:
            picks = (rng.randrange(layout.total) for _ in range(args.turns))
            return [
                [activities.personal_message(f"status {layout.case_number(i)}", https, user_id=u)]
                for i, u in zip(picks, people(), strict=False)
            ]

        # Everyone once first (a person's first turn also stores their chat's address).
        load(bot.messages_url, chat("help")[:PEOPLE], 8, 60)
        for name, make in (
            ("help, c=1", lambda: chat("help")),
            (f"status, {layout.total:,} handoffs, c=1", status),
            ("list EMEA, c=1", lambda: chat("list EMEA")),
        ):
            if args.only and not name.startswith(args.only):
                continue
            rows.append(
                measure(
                    Row(name, "ours"),
                    bot,
                    connector,
                    make,
                    concurrency=1,
                    seconds=args.seconds,
                    warmup=chat("help")[:100],
                )
            )
        if args.spy or args.profile:
            # Both write their file when interrupted (SIGINT), not when terminated.
            bot.process.send_signal(signal.SIGINT)
            bot.process.wait(timeout=60)
    finally:
        processes.stop_all()
        if postgres is not None:
            asyncio.run(drop_postgres_database(postgres))
    print(f"\n{'scenario':40} {'turns/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>7}")
    for row in rows:
        run = row.median_run()
        print(
            f"{row.scenario:40} {run.turns_per_s:8.0f} {run.p50:7.2f} {run.p99:7.2f} "
            f"{run.cpu_ms:7.2f}" + (f"  errors {run.errors}" if run.errors else "")
        )
    if args.spy:
        print(f"flame graph: {args.spy}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
