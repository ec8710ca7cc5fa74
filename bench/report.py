"""What the bench prints: progress on standard error, and on standard output the table of
rows and the targets met or missed."""

from __future__ import annotations

import logging
import statistics

from bench.measuring import Row
from bench.scenarios import ACCEPT_CLICKERS, HELP_CONCURRENCY

# (what, target, unit)
TARGETS = {
    "startup_s": 1.5,
    "cpu_ms_per_turn_c1": 2.0,
    "accept_p99_ms": 30.0,
    "status_p99_ms": 10.0,
    "list_p99_ms": 20.0,
    # The "insights over 1,000,000 handoffs in under 200 ms at the 99th percentile".
    "insights_p99_ms": 200.0,
    "rss_mb": 120.0,
    "ratio_botbuilder": 10.0,
    "ratio_agents": 1.0,
}


progress = logging.getLogger("bench")


def log(message: str) -> None:
    """Progress on standard error; standard output carries only the table."""
    progress.info(message)


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
            if row.scenario.startswith("insights"):
                print(
                    check(
                        f"{name} {row.scenario.removesuffix(', c=1')} p99 ms",
                        run.p99,
                        TARGETS["insights_p99_ms"],
                    )
                )
        print(check(f"{name} peak RSS MB", max(r.rss for r in rows), TARGETS["rss_mb"]))
