"""compose.yaml, the local try-out of several replicas: read with PyYAML as Compose reads it
(anchors and merge keys included), then checked against the app's own settings and routes."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from config.settings import Settings, database_url_problem

from ship.artifacts import COMPOSE, ROOT, served_paths


def services() -> dict[str, dict[str, Any]]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded["services"]  # type: ignore[no-any-return]


def bots() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services().items() if name.startswith("bot-")}


def test_two_bot_replicas_share_one_postgresql_url_naming_the_postgres_service() -> None:
    replicas = bots()
    assert len(replicas) >= 2
    urls = {s["environment"]["DATABASE_URL"] for s in replicas.values()}
    assert len(urls) == 1, f"every replica on the same database, not {sorted(urls)}"
    [url] = urls
    assert database_url_problem(url) is None
    parts = urlsplit(url)
    assert parts.scheme == "postgresql"
    postgres = services()[str(parts.hostname)]
    assert postgres["image"] == "postgres:16"
    given = postgres["environment"]
    assert (parts.username, parts.password, parts.path.strip("/")) == (
        given["POSTGRES_USER"],
        given["POSTGRES_PASSWORD"],
        given["POSTGRES_DB"],
    )


def test_postgres_is_healthy_before_the_migration_and_the_replicas_start() -> None:
    postgres = services()["postgres"]
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    migrate = services()["migrate"]
    assert migrate["command"] == ["python", "app.py", "migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert (
        migrate["environment"]["DATABASE_URL"]
        == next(iter(bots().values()))["environment"]["DATABASE_URL"]
    )
    for name, bot in bots().items():
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("name", sorted(bots()))
def test_each_replica_has_its_health_check_and_its_own_loopback_port(name: str) -> None:
    bot = bots()[name]
    check = " ".join(bot["healthcheck"]["test"])
    [path] = re.findall(r"/[a-z]+(?=')", check)
    assert path in served_paths()
    [mapping] = bot["ports"]
    host_address, host_port, container_port = mapping.split(":")
    # Local mode is unauthenticated: reachable from this machine only.
    assert host_address == "127.0.0.1"
    assert container_port == bot["environment"]["PORT"]
    others = [b["ports"][0].split(":")[1] for n, b in bots().items() if n != name]
    assert host_port not in others, "each replica needs a host port of its own"


def test_the_replicas_run_in_local_mode_from_the_image_built_here() -> None:
    for name, bot in bots().items():
        environment = bot["environment"]
        assert not any(key.startswith("Microsoft") for key in environment), name
        assert set(environment) <= {f.alias for f in Settings.model_fields.values()}
        assert bot["build"] == "." and (ROOT / "Dockerfile").is_file()
        assert Settings(**environment, MicrosoftAppId="").local_mode
