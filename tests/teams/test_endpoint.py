"""The /api/messages endpoint and the probes (teams/endpoint.py), served by aiohttp's test server
over the real CloudAdapter: what is refused before a turn runs and why, and what /healthz and
/readyz answer while the bot starts, runs, and loses its database."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from app import build_bot
from config.process import load_process_config
from config.settings import DEFAULT_CONFIG_PATH, Settings
from storage.sql_store import SqlStore, open_store
from teams.connector_auth import create_adapter
from teams.endpoint import (
    ADAPTER,
    BOT,
    MAX_BODY_BYTES,
    STORE,
    MessagesEndpoint,
    healthz,
    readyz,
)

from conftest import FakeClock
from harness.activities import personal_message
from harness.fake_connector import FakeConnector

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
Serve = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", FakeClock(NOW))
    yield opened
    await opened.close()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Serves the endpoint and the probes as app.py routes them."""
    clients: list[TestClient[Any, Any]] = []

    async def start(
        *, authenticated: bool, store: SqlStore | None = None, started: bool = True
    ) -> TestClient[Any, Any]:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        adapter = create_adapter(Settings())
        app[ADAPTER] = adapter
        if store is not None:
            app[STORE] = store
            if started:
                process = load_process_config(DEFAULT_CONFIG_PATH)
                pipeline = build_bot(
                    store, process, FakeClock(NOW), delivery_abandoned_after=timedelta(seconds=15)
                )
                pipeline.attach(adapter)
                app[BOT] = pipeline.bot
        app.router.add_post("/api/messages", MessagesEndpoint(authenticated=authenticated))
        app.router.add_get("/healthz", healthz)
        app.router.add_get("/readyz", readyz)
        client: TestClient[Any, Any] = TestClient(TestServer(app))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


def message(connector: FakeConnector, text: str = "help") -> dict[str, Any]:
    return personal_message(text, connector.url)


async def test_a_message_in_local_mode_runs_its_turn_and_is_answered(
    serve: Serve, store: SqlStore, fake_connector: FakeConnector
) -> None:
    client = await serve(authenticated=False, store=store)
    response = await client.post("/api/messages", json=message(fake_connector))
    assert response.status == 201
    [reply] = fake_connector.activities()
    assert "handoff" in reply["text"]


async def test_while_the_bot_starts_messages_get_503_to_try_again(
    serve: Serve, store: SqlStore, fake_connector: FakeConnector
) -> None:
    client = await serve(authenticated=False, store=store, started=False)
    response = await client.post("/api/messages", json=message(fake_connector))
    assert response.status == 503
    assert "still starting" in (await response.json())["error"]
    assert fake_connector.requests == []


async def test_no_token_is_401_before_the_body_is_read(
    serve: Serve, store: SqlStore, fake_connector: FakeConnector
) -> None:
    client = await serve(authenticated=True, store=store)
    response = await client.post("/api/messages", json=message(fake_connector))
    assert response.status == 401
    assert "valid Bot Framework token" in (await response.json())["error"]
    assert fake_connector.requests == []


async def test_a_token_not_from_the_channel_service_is_401(
    serve: Serve, store: SqlStore, fake_connector: FakeConnector
) -> None:
    client = await serve(authenticated=True, store=store)
    response = await client.post(
        "/api/messages",
        json=message(fake_connector),
        headers={"Authorization": "Bearer not-a-jwt"},
    )
    assert response.status == 401


async def test_another_content_type_is_415(
    serve: Serve, store: SqlStore, fake_connector: FakeConnector
) -> None:
    client = await serve(authenticated=False, store=store)
    response = await client.post(
        "/api/messages",
        data=json.dumps(message(fake_connector)),
        headers={"Content-Type": "text/plain"},
    )
    assert response.status == 415
    assert "application/json" in (await response.json())["error"]
    assert fake_connector.requests == []


async def test_a_compressed_body_is_415(
    serve: Serve, store: SqlStore, fake_connector: FakeConnector
) -> None:
    client = await serve(authenticated=False, store=store)
    response = await client.post(
        "/api/messages",
        data=gzip.compress(json.dumps(message(fake_connector)).encode()),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status == 415
    assert "uncompressed" in (await response.json())["error"]


async def test_a_body_over_the_limit_is_413_and_the_connection_closes(
    serve: Serve, store: SqlStore, fake_connector: FakeConnector
) -> None:
    client = await serve(authenticated=False, store=store)
    activity = message(fake_connector, "x" * (MAX_BODY_BYTES + 1))
    response = await client.post("/api/messages", json=activity)
    assert response.status == 413
    assert str(MAX_BODY_BYTES) in (await response.json())["error"]
    assert response.headers.get("Connection", "").lower() == "close"
    assert fake_connector.requests == []


@pytest.mark.parametrize(
    ("body", "said"),
    [("[1, 2]", "JSON object"), ("{not json", "")],
)
async def test_a_body_that_is_no_activity_is_400(
    body: str, said: str, serve: Serve, store: SqlStore
) -> None:
    client = await serve(authenticated=False, store=store)
    response = await client.post(
        "/api/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert said in (await response.json())["error"]


async def test_healthz_answers_alive_even_while_starting(serve: Serve) -> None:
    client = await serve(authenticated=False)
    response = await client.get("/healthz")
    assert (response.status, await response.json()) == (200, {"status": "alive"})


async def test_readyz_is_503_until_the_database_is_open(serve: Serve) -> None:
    client = await serve(authenticated=False)
    response = await client.get("/readyz")
    assert (response.status, await response.json()) == (503, {"status": "starting"})


async def test_readyz_is_ready_then_503_naming_a_database_gone(
    serve: Serve, tmp_path: Path
) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'gone.db'}", FakeClock(NOW))
    client = await serve(authenticated=False, store=store)
    ready = await client.get("/readyz")
    assert (ready.status, await ready.json()) == (200, {"status": "ready"})

    await store.close()

    gone = await client.get("/readyz")
    answer = await gone.json()
    assert gone.status == 503 and answer["status"] == "unavailable"
    assert "gone.db" in answer["reason"]
