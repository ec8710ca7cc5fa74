"""What the bot shows an operator's Prometheus at /metrics (docs/metrics.md says what each
number means and where it is served).

Each application has its own ``CollectorRegistry``, never prometheus_client's global one, so
that tests and several applications in one process never share a series. The counters and
the turn histogram move as things happen, told by the places that see them (the endpoint,
the Bot Connector and Graph clients, the outbox worker) through plain callables, so that
those layers import nothing of Prometheus. The outbox and handoff numbers (and the time to
accept histogram) are the database's:
they are read at scrape time, in the async handler, before the text is rendered, because a
collector's ``collect`` is synchronous and cannot wait for the store.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from handoff.effects import OutboxKind
from handoff.insights import AcceptTimes
from handoff.models import HandoffState, Severity
from handoff.ports import OutboxItem
from teams.endpoint import ACTIVITY_TYPE
from teams.server_log import ProbesUnlogged

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
# The Bot Framework's activity types: a label takes one of these or "other", so that whoever
# posts to /api/messages cannot grow the number of series.
ACTIVITY_KINDS = frozenset(
    {
        "message",
        "conversationUpdate",
        "invoke",
        "messageReaction",
        "installationUpdate",
        "event",
        "typing",
        "messageUpdate",
        "messageDelete",
        "endOfConversation",
        "contactRelationUpdate",
        "deleteUserData",
        "trace",
        "handoff",
        "command",
        "commandResult",
        "suggestion",
    }
)
OTHER = "other"
_OUTBOX_KINDS = frozenset(kind.value for kind in OutboxKind)
# The status label of a request that got no answer (refused connection, time-out).
NO_ANSWER = "none"
# Around the request deadline (10 s by default) and Teams' own patience (~15 s).
TURN_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
# Time to accept a handoff, in seconds: 5, 15 and 30 minutes (Sev A's default target is 30),
# 1, 2 and 4 hours (Sev B's is 2 hours, C's 8), 8 hours (a shift) and a day (the next shift
# of the same region). Handoffs are taken in minutes to hours, never in the sub-second range
# of prometheus_client's default buckets; past a day the exact time no longer matters.
ACCEPT_BUCKETS = (300, 900, 1800, 3600, 7200, 14400, 28800, 86400)
# A scrape waits this long for the database; Prometheus gives up on a scrape after 10 s.
QUERY_SECONDS = 3.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Counts(Protocol):
    """What a scrape reads of the store (storage.sql_store.SqlStore)."""

    async def outbox_counts(self) -> dict[str, int]: ...

    async def handoff_counts(self) -> dict[tuple[HandoffState, str], int]: ...

    async def time_to_accept_buckets(
        self, bounds: Sequence[int]
    ) -> dict[Severity, AcceptTimes]: ...


@dataclass(frozen=True)
class StoreNumbers:
    """What one scrape read of the database."""

    outbox: dict[str, int]
    handoffs: dict[tuple[HandoffState, str], int]
    accept_times: dict[Severity, AcceptTimes]


class _StoreCounts(Collector):
    """The database's numbers as the last scrape read them; left out (and
    handoff_database_up 0) when it could not, rather than shown stale."""

    def __init__(self, regions: Iterable[str]) -> None:
        self._regions = tuple(regions)
        self._numbers: StoreNumbers | None = None

    def update(self, numbers: StoreNumbers | None) -> None:
        self._numbers = numbers

    def collect(self) -> Iterator[Metric]:
        numbers = self._numbers
        yield GaugeMetricFamily(
            "handoff_database_up",
            "1 when the database answered this scrape's queries, else 0 (and the outbox and "
            "handoff numbers are left out).",
            value=1 if numbers is not None else 0,
        )
        if numbers is None:
            return
        yield from self._outbox(numbers)
        yield from self._handoffs(numbers)
        yield self._accept_times(numbers)

    def _outbox(self, numbers: StoreNumbers) -> Iterator[Metric]:
        outbox = GaugeMetricFamily(
            "handoff_outbox_items",
            "Outbox items (messages, card updates, Graph calls) in the database, by state.",
            labels=["state"],
        )
        for state, count in sorted(numbers.outbox.items()):
            outbox.add_metric([state], count)
        yield outbox

    def _handoffs(self, numbers: StoreNumbers) -> Iterator[Metric]:
        handoffs = GaugeMetricFamily(
            "handoff_handoffs_total",
            "Handoffs in the database by their current state and target region (a gauge, "
            "read at scrape time: the same on every replica).",
            labels=["state", "region"],
        )
        # Every state of every region, zero included, so that a series does not vanish when
        # its last handoff moves on.
        regions = sorted({*self._regions, *(region for _, region in numbers.handoffs)})
        for region in regions:
            for state in HandoffState:
                handoffs.add_metric([state.value, region], numbers.handoffs.get((state, region), 0))
        yield handoffs

    @staticmethod
    def _accept_times(numbers: StoreNumbers) -> Metric:
        histogram = HistogramMetricFamily(
            "handoff_time_to_accept_seconds",
            "Seconds from request to accept of every accepted handoff in the database, by "
            "severity (read at scrape time: the same on every replica).",
            labels=["severity"],
        )
        # Every severity, at zero before its first accept, so that no series appears late.
        for severity in Severity:
            times = numbers.accept_times.get(
                severity, AcceptTimes((0,) * len(ACCEPT_BUCKETS), 0, 0)
            )
            buckets: list[tuple[str, float]] = [
                # "300.0", as prometheus_client writes the bounds of its own histograms.
                (str(float(bound)), within)
                for bound, within in zip(ACCEPT_BUCKETS, times.within, strict=True)
            ]
            buckets.append(("+Inf", times.count))
            histogram.add_metric([severity.value], buckets, times.seconds)
        return histogram


class Metrics:
    """One application's metrics: the hooks that move them, and the /metrics handler."""

    def __init__(self, regions: Iterable[str] = ()) -> None:
        # No "_created" series beside each counter and histogram: they double the text and
        # no dashboard reads them. (A process-wide switch; these are the process's metrics.)
        disable_created_metrics()  # type: ignore[no-untyped-call]  # (untyped upstream)
        self.registry = CollectorRegistry()
        # The collector's passes by generation: app.py keeps it off while starting, and these
        # show it back on (and how often a full pass runs) while serving.
        GCCollector(registry=self.registry)
        self._turns = Histogram(
            "handoff_turn_seconds",
            "Seconds a request to /api/messages took, from arrival to answer, by activity type.",
            ["kind"],
            buckets=TURN_BUCKETS,
            registry=self.registry,
        )
        self._dead_letters = Counter(
            "handoff_outbox_dead_letters",
            "Outbox items this process gave up on (dead letters), by outbox kind.",
            ["kind"],
            registry=self.registry,
        )
        self._connector = Counter(
            "handoff_connector_requests",
            "HTTP requests to the Bot Connector, retries included, by answer status "
            f'("{NO_ANSWER}": no answer).',
            ["status"],
            registry=self.registry,
        )
        self._graph = Counter(
            "handoff_graph_requests",
            "HTTP requests to Microsoft Graph, retries included, by answer status "
            f'("{NO_ANSWER}": no answer).',
            ["status"],
            registry=self.registry,
        )
        # Present at 0 from the start: an alert on increase() sees the first one too.
        for kind in OutboxKind:
            self._dead_letters.labels(kind.value)
        self._connector.labels("429")
        self._graph.labels("429")
        self._counts = _StoreCounts(regions)
        self.registry.register(self._counts)
        # One scrape at a time reads and renders, so none renders another's half-read numbers.
        self._scraping = asyncio.Lock()

    # -- the hooks ------------------------------------------------------------------------

    def turn_took(self, activity_type: str | None, seconds: float) -> None:
        kind = activity_type if activity_type in ACTIVITY_KINDS else OTHER
        self._turns.labels(kind).observe(seconds)

    def connector_answered(self, status: int | None) -> None:
        self._connector.labels(NO_ANSWER if status is None else str(status)).inc()

    def graph_answered(self, status: int | None) -> None:
        self._graph.labels(NO_ANSWER if status is None else str(status)).inc()

    def dead_letter(self, item: OutboxItem) -> None:
        known = item.kind in _OUTBOX_KINDS
        self._dead_letters.labels(item.kind if known else OTHER).inc()

    def timed(self, handler: Handler) -> Handler:
        """The /api/messages handler, each request timed under the activity type it read."""

        async def timed_handler(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
            try:
                return await handler(request)
            finally:
                self.turn_took(request.get(ACTIVITY_TYPE), time.perf_counter() - started)

        return timed_handler

    # -- scraping -------------------------------------------------------------------------

    async def render(self, store: Counts | None) -> bytes:
        """The exposition text, with the database's numbers read now."""
        async with self._scraping:
            self._counts.update(await _read_counts(store))
            return generate_latest(self.registry)

    def handler(self, store_of: Callable[[], Counts | None]) -> Handler:
        """GET /metrics over the store that `store_of` gives (None while it opens)."""

        async def metrics(_request: web.Request) -> web.StreamResponse:
            body = await self.render(store_of())
            return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

        return metrics


METRICS = web.AppKey("metrics", Metrics)


async def _read_counts(store: Counts | None) -> StoreNumbers | None:
    if store is None:
        return None
    try:
        async with asyncio.timeout(QUERY_SECONDS):
            return StoreNumbers(
                outbox=await store.outbox_counts(),
                handoffs=await store.handoff_counts(),
                accept_times=await store.time_to_accept_buckets(ACCEPT_BUCKETS),
            )
    except Exception as error:
        # The scrape still answers, with what the process knows: an outage must not also
        # blind the operator to the 429s and dead letters that come with it.
        log.warning(
            "metrics: the database did not answer; its numbers are left out of this scrape",
            extra={"error": f"{type(error).__name__}: {error}"},
        )
        return None


def served_apart(
    metrics: Metrics, store_of: Callable[[], Counts | None], host: str, port: int
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A clean-up context serving /metrics alone on its own port (METRICS_PORT), by a second
    runner in the same process: with an app id the bot's public port never serves it."""

    async def metrics_site(_app: web.Application) -> AsyncIterator[None]:
        side = web.Application(handler_args={"access_log_class": ProbesUnlogged})
        side.router.add_get(METRICS_PATH, metrics.handler(store_of))
        runner = web.AppRunner(side, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            await runner.cleanup()
            # Caught by app.py's start-up like a bad setting: one line naming it.
            raise ValueError(
                f"METRICS_PORT {port}: cannot serve /metrics on {host}:{port} "
                f"({error.strerror or error}); choose a free port"
            ) from error
        log.info("serving /metrics", extra={"url": f"http://{host}:{port}{METRICS_PATH}"})
        yield
        await runner.cleanup()

    return metrics_site
