"""One measured row: a warm-up, then bounded runs of the load generator (bench/load.py, a
process of its own), each with its turns/s, latencies, and the bot's CPU, Bot Connector calls
and new connections per turn."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any

from bench.processes import BENCH, DATA, PINNING, ROOT, Bot, Connector, cpu_ms, log, rss_mb

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


def load(
    url: str,
    sessions: list[Session],
    concurrency: int,
    seconds: float,
    **more: Any,
) -> dict[str, Any]:
    """One run of bench/load.py (on the load generator's CPU); ``more`` goes into its spec
    (a soak's "soak", "rss_pid" and "rss_every_s")."""
    spec, result = DATA / "load-spec.json", DATA / "load-result.json"
    body = {"url": url, "concurrency": concurrency, "max_seconds": seconds, **more}
    if sessions or "soak" not in more:
        body["sessions"] = sessions
    spec.write_text(json.dumps(body))
    result.unlink(missing_ok=True)
    command = [sys.executable, str(BENCH / "load.py"), str(spec), str(result)]
    timeout = max(LOAD_TIMEOUT, seconds + 60)
    subprocess.run(PINNING.load_command(command), cwd=ROOT, check=True, timeout=timeout)
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
    repetitions: int = REPETITIONS,
) -> Row:
    """Warm-up, then ``repetitions`` bounded runs, each with its CPU, calls and connections.
    ``background``: the turns leave the outbox work; each run's CPU counts what of it is sent
    before the connector has been quiet a while, or for as long as the run's bound (at most
    8 s): sends paced by Teams' limits (7/s in one channel) may never be quiet, and a window
    as long as the run counts the same share of them per turn in a short run as in a long
    one."""
    log(f"{row.target}: {row.scenario}")
    if warmup:
        load(bot.messages_url, warmup, concurrency, seconds)
        if background:
            # The warm-up's sends that are not paced, done before the first run.
            connector.settle(limit=2.0)
    for _ in range(repetitions):
        sessions = make_sessions()
        before, cpu_before = connector.stats(), cpu_ms(bot.process.pid)
        outcome = load(bot.messages_url, sessions, concurrency, seconds)
        if background:
            connector.settle(limit=min(8.0, seconds))
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


@dataclass(frozen=True)
class Plan:
    """How long and how often: `make bench` (:data:`FULL`) or `make bench-quick`
    (:data:`QUICK`), the same scenarios and targets either way."""

    name: str
    seconds: float  # the time bound of each run
    repetitions: int
    # The extra rows no target reads: help over plain HTTP, the handoff submission.
    extras: bool
    bursts: int  # measured bursts of clicks, after one warm-up burst
    soak_turns: int
    soak_seconds: float  # the soak's time bound

    def sessions(self, count: int) -> int:
        """A row's session bound, ``count`` for a run of 4 s: shorter runs need fewer made."""
        return max(200, round(count * min(1.0, self.seconds / 4.0)))


FULL = Plan("make bench", 4.0, REPETITIONS, True, 5, 100_000, 900.0)
QUICK = Plan("make bench-quick", 1.5, 2, False, 3, 100_000, 20.0)


@dataclass
class Burst:
    """Bursts of clicks on one card each: the time to the last answer of each, and what was
    wrong with who got it (nothing: one owner, everyone else told so)."""

    last_ms: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Soak:
    asked: int  # the turns asked for; fewer were sent if the time bound came first
    turns: int
    seconds: float
    # (turns answered, VmRSS MB), about one a second, the first after the warm-up.
    samples: list[tuple[int, float]]
    errors: int

    @property
    def start_mb(self) -> float:
        return self.samples[0][1]

    @property
    def end_mb(self) -> float:
        return self.samples[-1][1]

    @property
    def growth(self) -> float:
        """Per cent, from the first sample (after the warm-up) to the last."""
        return (self.end_mb - self.start_mb) / self.start_mb * 100 if self.start_mb else 0.0

    def growth_over(self, turns: int) -> float:
        """The growth over ``turns``: measured, or when the time bound cut the soak short,
        the line fitted to the samples drawn out to ``turns`` (an over-estimate where caches
        fill first and then stay)."""
        if self.turns >= turns or len(self.samples) < 3 or not self.start_mb:
            return self.growth
        fit = statistics.linear_regression(
            [float(t) for t, _ in self.samples], [mb for _, mb in self.samples]
        )
        return max(fit.slope, 0.0) * turns / self.start_mb * 100


@dataclass
class Measured:
    """Everything measured on one of our bots."""

    name: str
    rows: list[Row]
    startup_s: float
    peak_rss_mb: float = 0.0
    burst: Burst | None = None
    soak: Soak | None = None
