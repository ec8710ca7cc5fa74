"""One measured row: a warm-up, then bounded runs of the load generator (bench/load.py, a
process of its own), each with its turns/s, latencies, and the bot's CPU, Bot Connector calls
and new connections per turn."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from bench.processes import BENCH, DATA, ROOT, Bot, Connector, cpu_ms, rss_mb

REPETITIONS = 3
LOAD_TIMEOUT = 300.0


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
