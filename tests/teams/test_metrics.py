"""/metrics as an operator's Prometheus scrapes it: over real HTTP from the bot (real SQLite,
the fake Bot Connector, Graph and identity platform), with numbers that move as a handoff
goes through, and only on METRICS_PORT once the bot has an app id."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from botframework.connector.auth import JwtTokenExtractor
from prometheus_client.parser import text_string_to_metric_families

from graph.client import GraphClient
from handoff import effects
from storage.sql_store import open_store
from teams.metrics import Metrics

from conftest import FakeClock, RunningBot, StartBot, free_port
from harness import activities
from harness.fake_connector import FakeConnector
from harness.fake_graph import DEFAULT_GRAPH_TOKEN, FakeGraph
from harness.fake_token_service import FakeTokenService
from harness.handoff_flow import CASE, RECEIVER, TUESDAY, accept_invoke, handoff_card, post
from harness.ids import DEFAULT_TENANT_ID
from harness.outbox_burst import introduce, recipients

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

EVERY_METRIC = (
    "handoff_turn_seconds",
    "handoff_outbox_items",
    "handoff_outbox_dead_letters_total",
    "handoff_connector_requests_total",
    "handoff_graph_requests_total",
    "handoff_handoffs_total",
    "handoff_time_to_accept_seconds",
    "handoff_database_up",
    "python_gc_objects_collected_total",
    "python_gc_objects_uncollectable_total",
    "python_gc_collections_total",
)
APP_ID, SECRET = "bot-app-id", "bot-secret"


def samples_of(text: str) -> Samples:
    """Every sample of the exposition text, by name and labels; the parser refuses text that
    is not Prometheus's format."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(session: aiohttp.ClientSession, url: str) -> Samples:
    async with session.get(f"{url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return samples_of(await response.text())


async def scrape_until(
    session: aiohttp.ClientSession, url: str, name: str, wanted: float, **labels: str
) -> Samples:
    """Scrapes until the sample reaches `wanted` (the outbox worker runs beside the test)."""
    for _ in range(200):
        samples = await scrape(session, url)
        if value(samples, name, **labels) >= wanted:
            return samples
        await asyncio.sleep(0.025)
    raise AssertionError(f"{name}{labels} never reached {wanted}: {value(samples, name, **labels)}")


async def test_metrics_answers_prometheus_text_naming_every_metric(
    start_bot: StartBot,
) -> None:
    bot = await start_bot()
    async with bot.session.get(f"{bot.url}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        text = await response.text()
    types = dict(line.split(" ")[2:4] for line in text.splitlines() if line.startswith("# TYPE "))
    assert types == {
        "handoff_turn_seconds": "histogram",
        "handoff_outbox_items": "gauge",
        "handoff_outbox_dead_letters_total": "counter",
        "handoff_connector_requests_total": "counter",
        "handoff_graph_requests_total": "counter",
        "handoff_handoffs_total": "gauge",
        "handoff_time_to_accept_seconds": "histogram",
        "handoff_database_up": "gauge",
        "python_gc_objects_collected_total": "counter",
        "python_gc_objects_uncollectable_total": "counter",
        "python_gc_collections_total": "counter",
    }
    assert set(types) == set(EVERY_METRIC)
    samples = samples_of(text)
    assert value(samples, "handoff_database_up") == 1
    assert value(samples, "handoff_outbox_items", state="dead") == 0
    # Every configured region shows each state, at zero before any handoff.
    for region in ("EMEA", "US", "APAC", "IST"):
        assert value(samples, "handoff_handoffs_total", state="requested", region=region) == 0
    # Every severity's histogram, at zero before any accept.
    for severity in ("A", "B", "C"):
        assert value(samples, "handoff_time_to_accept_seconds_count", severity=severity) == 0
        assert (
            value(samples, "handoff_time_to_accept_seconds_bucket", severity=severity, le="+Inf")
            == 0
        )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


async def test_the_numbers_move_as_a_handoff_is_requested_and_accepted(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock)
    before = await scrape(bot.session, bot.url)

    card, message_id = await handoff_card(bot, fake_connector, CASE)
    requested = await scrape(bot.session, bot.url)
    # Taken 20 minutes after the request: past the 15-minute bucket, inside the 30-minute one.
    clock.advance(timedelta(minutes=20))
    await post(bot, accept_invoke(fake_connector, card, message_id, RECEIVER))
    await fake_connector.wait_for_activities(
        predicate=lambda a: "accepted your handoff" in (a.get("text") or "")
    )
    accepted = await scrape(bot.session, bot.url)
    sent = [r for r in fake_connector.requests if 200 <= r.status < 300]

    def handoffs(samples: Samples, state: str) -> float:
        return value(samples, "handoff_handoffs_total", state=state, region="US")

    assert (handoffs(before, "requested"), handoffs(before, "accepted")) == (0, 0)
    assert (handoffs(requested, "requested"), handoffs(requested, "accepted")) == (1, 0)
    assert (handoffs(accepted, "requested"), handoffs(accepted, "accepted")) == (0, 1)

    def accepts(samples: Samples, le: str, severity: str = "B") -> float:
        return value(samples, "handoff_time_to_accept_seconds_bucket", severity=severity, le=le)

    # The example case is Sev B: its histogram alone counts the accept, once, at 1200 s.
    assert [accepts(requested, le) for le in ("900.0", "1800.0", "+Inf")] == [0, 0, 0]
    assert [accepts(accepted, le) for le in ("900.0", "1800.0", "86400.0", "+Inf")] == [0, 1, 1, 1]
    assert value(accepted, "handoff_time_to_accept_seconds_count", severity="B") == 1
    assert value(accepted, "handoff_time_to_accept_seconds_sum", severity="B") == 1200
    assert accepts(accepted, "+Inf", "A") == accepts(accepted, "+Inf", "C") == 0

    def turns(samples: Samples, kind: str) -> float:
        return value(samples, "handoff_turn_seconds_count", kind=kind)

    # The team install, the "setup" and the dialog's messages and form submits; the click.
    assert turns(requested, "conversationUpdate") - turns(before, "conversationUpdate") == 1
    assert turns(requested, "message") - turns(before, "message") >= 5
    assert turns(accepted, "invoke") - turns(requested, "invoke") == 1
    assert value(accepted, "handoff_turn_seconds_sum", kind="invoke") > 0
    # Every answer the connector gave the bot by then is counted, no more.
    ok = value(accepted, "handoff_connector_requests_total", status="200")
    assert value(before, "handoff_connector_requests_total", status="200") == 0
    assert 6 <= ok <= len(sent)
    assert value(accepted, "handoff_outbox_items", state="done") >= 1


async def test_a_429_from_the_bot_connector_shows_under_its_status(
    start_bot: StartBot, fake_connector: FakeConnector
) -> None:
    bot = await start_bot()
    fake_connector.fail_next(429, retry_after="30", method="POST")
    await bot.post_activity(activities.personal_message("help", fake_connector.url))
    await fake_connector.wait_for(lambda r: r.status == 429)

    name = "handoff_connector_requests_total"
    samples = await scrape_until(bot.session, bot.url, name, 1, status="429")
    assert value(samples, name, status="429") == 1


async def test_a_request_of_no_known_activity_type_is_timed_as_other(
    start_bot: StartBot, fake_connector: FakeConnector
) -> None:
    bot = await start_bot()
    strange = {**activities.personal_message("hi", fake_connector.url), "type": "x" * 40}
    response = await bot.post_activity(strange)
    async with bot.session.post(f"{bot.url}/api/messages", data=b"not json") as refused:
        assert refused.status >= 400

    samples = await scrape(bot.session, bot.url)
    assert response.status < 500
    assert value(samples, "handoff_turn_seconds_count", kind="other") == 2
    assert not any(dict(labels).get("kind", "").startswith("xxx") for _, labels in samples), (
        "what a sender writes never becomes a label"
    )


async def test_a_dead_letter_is_counted_by_kind_and_shows_among_the_outbox_items(
    start_bot: StartBot, fake_connector: FakeConnector, sqlite_url: str
) -> None:
    bot = await start_bot(OUTBOX_POLL_SECONDS="0.05")
    [person] = recipients(1, "dead")
    await introduce(bot.post_activity, fake_connector, [person])
    # 403: retrying cannot help, so the message is a dead letter at once.
    fake_connector.fail_next(403, path_contains=person.conversation_id)
    clock = FakeClock()
    store = await open_store(sqlite_url, clock)
    try:
        await store.enqueue_message(effects.tell(person.person, "gone", "gone", clock.now()))
    finally:
        await store.close()

    await scrape_until(bot.session, bot.url, "handoff_outbox_dead_letters_total", 1, kind="notify")
    # Counted once the database has it dead: a scrape from now on reads it so.
    samples = await scrape(bot.session, bot.url)
    assert value(samples, "handoff_outbox_dead_letters_total", kind="notify") == 1
    assert value(samples, "handoff_outbox_items", state="dead") == 1
    assert value(samples, "handoff_connector_requests_total", status="403") == 1
    assert value(samples, "handoff_outbox_dead_letters_total", kind="post_card") == 0


@pytest.fixture
def trust_fakes(
    fake_token_service: FakeTokenService, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeTokenService]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
    fake_token_service.add_client(APP_ID, SECRET)
    yield fake_token_service


async def start_with_app_id(
    start_bot: StartBot, tokens: FakeTokenService, metrics_port: int
) -> RunningBot:
    return await start_bot(
        MicrosoftAppId=APP_ID,
        MicrosoftAppTenantId=DEFAULT_TENANT_ID,
        MicrosoftAppPassword=SECRET,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=tokens.openid_metadata_url,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=tokens.authority(),
        METRICS_PORT=metrics_port,
        HOST="127.0.0.1",
    )


async def test_with_an_app_id_metrics_is_served_only_on_metrics_port(
    start_bot: StartBot, trust_fakes: FakeTokenService
) -> None:
    port = free_port()
    bot = await start_with_app_id(start_bot, trust_fakes, port)
    internal = f"http://127.0.0.1:{port}"

    async with bot.session.get(f"{bot.url}/metrics") as public:
        assert public.status == 404, "the public port never shows /metrics"
    samples = await scrape(bot.session, internal)
    assert value(samples, "handoff_database_up") == 1
    assert {name for name, _ in samples} >= {
        "handoff_outbox_items",
        "handoff_handoffs_total",
        "handoff_connector_requests_total",
    }
    async with bot.session.get(f"{internal}/api/messages") as other:
        assert other.status == 404, "the internal port serves /metrics alone"

    await bot.stop()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with bot.session.get(f"{internal}/metrics"):
            pass


async def test_a_metrics_port_taken_stops_start_up_naming_it(
    start_bot: StartBot, trust_fakes: FakeTokenService
) -> None:
    with socket_held() as port, pytest.raises(ValueError, match=f"METRICS_PORT {port}"):
        await start_with_app_id(start_bot, trust_fakes, port)


@contextmanager
def socket_held() -> Iterator[int]:
    """A port some other program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port: int = sock.getsockname()[1]
        yield port


class GraphTokens:
    async def token(self, *, force_refresh: bool = False) -> str:
        return DEFAULT_GRAPH_TOKEN


async def no_wait(_seconds: float) -> None:
    return None


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def test_graph_requests_are_counted_by_status_retries_included(
    fake_graph: FakeGraph, session: aiohttp.ClientSession
) -> None:
    metrics = Metrics()
    graph = GraphClient(
        fake_graph.base_url,
        GraphTokens(),
        session,
        sleep=no_wait,
        on_answer=metrics.graph_answered,
    )
    fake_graph.add_user("aaaaaaaa-0000-0000-0000-000000000001", "Ana Lima")
    fake_graph.fail_next(429, retry_after="1")
    assert await graph.find_user("aaaaaaaa-0000-0000-0000-000000000001") is not None
    assert await graph.find_user("nobody@contoso.example") is None
    nowhere = GraphClient(
        f"http://127.0.0.1:{free_port()}/v1.0",
        GraphTokens(),
        session,
        on_answer=metrics.graph_answered,
    )
    with pytest.raises(Exception, match="ClientConnectorError"):
        await nowhere.find_user("nobody@contoso.example")

    samples = samples_of((await metrics.render(None)).decode())
    counted = {
        dict(labels)["status"]: count
        for (name, labels), count in samples.items()
        if name == "handoff_graph_requests_total"
    }
    assert counted == {"429": 1, "200": 1, "404": 1, "none": 1}


async def test_a_scrape_without_the_database_says_so_and_keeps_the_counters(
    tmp_path: Path,
) -> None:
    metrics = Metrics(["EMEA"])
    metrics.connector_answered(429)
    store = await open_store(f"sqlite:///{tmp_path / 'gone.db'}", FakeClock())
    up = samples_of((await metrics.render(store)).decode())
    await store.close()  # the database is away from now on

    down = samples_of((await metrics.render(store)).decode())

    assert value(up, "handoff_database_up") == 1
    assert value(up, "handoff_handoffs_total", state="requested", region="EMEA") == 0
    assert value(down, "handoff_database_up") == 0
    assert not [
        name for name, _ in down if name in ("handoff_outbox_items", "handoff_handoffs_total")
    ]
    assert value(down, "handoff_connector_requests_total", status="429") == 1


async def test_metrics_of_two_apps_in_one_process_never_mix() -> None:
    first, second = Metrics(), Metrics()
    first.connector_answered(200)
    shown = samples_of((await first.render(None)).decode())
    other = samples_of((await second.render(None)).decode())
    assert value(shown, "handoff_connector_requests_total", status="200") == 1
    assert value(other, "handoff_connector_requests_total", status="200") == 0
