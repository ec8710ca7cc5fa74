"""`python app.py`, the README's run command, as a real process."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
import yaml

from config.settings import DEFAULT_CONFIG_PATH
from storage.migrate import load_migrations

from conftest import CreateDatabase, free_port
from harness import activities
from harness.bot_process import bot_environment as local_bot_environment
from harness.fake_connector import FakeConnector
from harness.fake_token_service import FakeTokenService
from harness.ids import DEFAULT_TENANT_ID

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 20.0


def bot_environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    return local_bot_environment(f"sqlite:///{tmp_path / 'bot.db'}", **extra)


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def start(
    processes: list[subprocess.Popen[bytes]], env: dict[str, str], *args: str
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, *(args or ["app.py"])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    processes.append(process)
    return process


async def wait_until_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = asyncio.get_running_loop().time() + START_TIMEOUT_SECONDS
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"the bot exited early: {process.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                async with session.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"the bot was not ready within {START_TIMEOUT_SECONDS} s")


async def serving(
    launch: list[subprocess.Popen[bytes]], tmp_path: Path, **extra: str
) -> tuple[subprocess.Popen[bytes], str]:
    """`python app.py` on a free port, once it is ready; and its URL."""
    port = free_port()
    process = start(launch, bot_environment(tmp_path, PORT=str(port), **extra))
    url = f"http://127.0.0.1:{port}"
    await wait_until_ready(url, process)
    return process, url


def log_lines(stderr: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]


async def test_app_py_serves_help_then_stops_cleanly(
    tmp_path: Path, fake_connector: FakeConnector, launch: list[subprocess.Popen[bytes]]
) -> None:
    process, url = await serving(launch, tmp_path)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/healthz") as response:
            assert response.status == 200
        activity = activities.personal_message("help", service_url=fake_connector.url)
        async with session.post(f"{url}/api/messages", json=activity) as response:
            assert response.status in (200, 201)
    [reply] = await fake_connector.wait_for_activities(1)
    assert "What I can do" in reply["text"]

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert process.returncode == 0
    lines = log_lines(stderr)
    warnings = [line for line in lines if line["level"] == "WARNING"]
    assert any("LOCAL MODE" in str(line["message"]) for line in warnings)
    assert all("Traceback" not in str(line) for line in lines)


async def test_app_py_logs_an_oversized_header_as_one_warning_quoting_none_of_it(
    tmp_path: Path, fake_connector: FakeConnector, launch: list[subprocess.Popen[bytes]]
) -> None:
    token_start = "eyJhbGciOiJSUzI1NiIsImtpZCI6InNlY3JldC1zdGFydCJ9"
    process, url = await serving(launch, tmp_path)
    activity = activities.personal_message("help", service_url=fake_connector.url)
    async with aiohttp.ClientSession() as session:
        oversized = {"Authorization": f"Bearer {token_start}.{'A' * 9000}"}
        async with session.post(
            f"{url}/api/messages", json=activity, headers=oversized
        ) as response:
            assert 400 <= response.status < 500
        async with session.post(f"{url}/api/messages", json=activity) as response:
            assert response.status in (200, 201)
    await fake_connector.wait_for_activities(1)

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)
    assert token_start.encode() not in stderr
    assert b"Traceback" not in stderr
    server = [line for line in log_lines(stderr) if line["name"] == "aiohttp.server"]
    assert [(line["level"], line["message"], line["reason"]) for line in server] == [
        ("WARNING", "malformed HTTP request refused", "LineTooLong")
    ]


@pytest.mark.parametrize(
    ("setting", "value", "named"),
    [
        ("PORT", "eighty", "PORT"),
        ("DATABASE_URL", "mysql://somewhere/db", "DATABASE_URL"),
        ("DATABASE_URL", "sqlite:///data/", "DATABASE_URL"),
        ("DATABASE_URL", "postgresql://", "DATABASE_URL"),
        ("HANDOFF_CONFIG", "/nonexistent/handoff.yaml", "HANDOFF_CONFIG"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_setting(
    tmp_path: Path, launch: list[subprocess.Popen[bytes]], setting: str, value: str, named: str
) -> None:
    process = start(launch, bot_environment(tmp_path, **{"PORT": str(free_port()), setting: value}))
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    [error] = [line for line in log_lines(stderr) if line["level"] == "ERROR"]
    assert str(error["message"]).startswith("cannot start")
    assert named in str(error["message"]), "a person reading the log sees what to fix"
    assert named in str(error["error"])
    assert b"Traceback" not in stderr


def test_an_app_id_without_a_tenant_stops_start_up_naming_the_tenant_setting(
    tmp_path: Path, launch: list[subprocess.Popen[bytes]]
) -> None:
    env = bot_environment(
        tmp_path, PORT=str(free_port()), MicrosoftAppId="app-id", MicrosoftAppPassword="secret"
    )
    process = start(launch, env)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    [error] = [line for line in log_lines(stderr) if line["level"] == "ERROR"]
    assert "MicrosoftAppTenantId is required for a single-tenant bot" in str(error["message"])
    assert b"Traceback" not in stderr


def test_allowed_groups_without_graph_stop_start_up_naming_what_to_set(
    tmp_path: Path, launch: list[subprocess.Popen[bytes]]
) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["case_transfer"]["allowed_groups"] = ["5b0c7a1e-2f3d-4c5b-9a8e-1d2c3b4a5f60"]
    config = tmp_path / "groups.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    env = bot_environment(tmp_path, PORT=str(free_port()), HANDOFF_CONFIG=str(config))
    process = start(launch, env)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert b"Traceback" not in stderr
    [error] = [line for line in log_lines(stderr) if line["level"] == "ERROR"]
    assert str(error["message"]).startswith("cannot start")
    for named in ("case_transfer.allowed_groups", "MicrosoftAppTenantId", "GRAPH_CLIENT_ID"):
        assert named in str(error["error"]), f"the admin is told about {named}"


# Settings now refuse every DATABASE_URL that storage refuses, so to see what main() does when
# they disagree (or any other check fails only once aiohttp starts the app), storage's parser
# is made to refuse, and app.py then runs as `python app.py` would.
REFUSING_STORAGE = """\
import runpy
import storage.database

def refuse(url):
    raise ValueError("DATABASE_URL is not usable: refused for the test")

storage.database.parse_database_url = refuse
runpy.run_path("app.py", run_name="__main__")
"""


def test_a_value_error_while_starting_ends_in_one_line_and_exit_code_2(
    tmp_path: Path, launch: list[subprocess.Popen[bytes]]
) -> None:
    env = bot_environment(tmp_path, PORT=str(free_port()))
    process = start(launch, env, "-c", REFUSING_STORAGE)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert b"Traceback" not in stderr
    [error] = [line for line in log_lines(stderr) if line["level"] == "ERROR"]
    assert str(error["message"]).startswith("cannot start")
    assert error["error"] == "DATABASE_URL is not usable: refused for the test"


def test_an_unusable_database_stops_start_up_with_the_path(
    tmp_path: Path, launch: list[subprocess.Popen[bytes]]
) -> None:
    # A regular file where a folder should be: unusable even for root, unlike permission bits.
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    env = bot_environment(
        tmp_path, PORT=str(free_port()), DATABASE_URL=f"sqlite:///{blocked / 'sub' / 'bot.db'}"
    )
    process = start(launch, env)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    [error] = [line for line in log_lines(stderr) if line["level"] == "ERROR"]
    assert str(blocked) in str(error["error"])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_migrate_brings_the_schema_up_to_date_and_exits(
    backend: str,
    tmp_path: Path,
    launch: list[subprocess.Popen[bytes]],
    create_postgres_database: CreateDatabase,
) -> None:
    url = (
        await create_postgres_database()
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'fresh' / 'bot.db'}"
    )
    env = bot_environment(tmp_path, DATABASE_URL=url)
    first = start(launch, env, "app.py", "migrate")
    _, stderr = first.communicate(timeout=60)
    assert first.returncode == 0, stderr
    [done] = [
        line for line in log_lines(stderr) if line["message"] == "the database schema is up to date"
    ]
    newest = max(m.version for m in load_migrations(done["backend"]))  # type: ignore[arg-type]
    assert done["schema_version"] == newest
    assert done["applied"] == list(range(1, newest + 1))
    # Again: nothing left to apply, the same version, and the bot never served.
    again = start(launch, env, "app.py", "migrate")
    _, stderr = again.communicate(timeout=60)
    assert again.returncode == 0
    [done] = [
        line for line in log_lines(stderr) if line["message"] == "the database schema is up to date"
    ]
    assert (done["applied"], done["schema_version"]) == ([], newest)
    assert not any(line["message"] == "serving the bot" for line in log_lines(stderr))


def test_migrate_on_an_unusable_database_says_where_and_exits_1(
    tmp_path: Path, launch: list[subprocess.Popen[bytes]]
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    env = bot_environment(tmp_path, DATABASE_URL=f"sqlite:///{blocked / 'sub' / 'bot.db'}")
    process = start(launch, env, "app.py", "migrate")
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert b"Traceback" not in stderr
    [error] = [line for line in log_lines(stderr) if line["level"] == "ERROR"]
    assert str(blocked) in str(error["error"])


def test_an_unknown_argument_is_refused_with_the_usage(
    tmp_path: Path, launch: list[subprocess.Popen[bytes]]
) -> None:
    process = start(launch, bot_environment(tmp_path), "app.py", "migrat")
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    [error] = [line for line in log_lines(stderr) if line["level"] == "ERROR"]
    assert "python app.py [migrate]" in str(error["error"])
    assert not (tmp_path / "bot.db").exists(), "nothing was opened"


async def test_each_turn_logs_under_its_own_id(
    tmp_path: Path, fake_connector: FakeConnector, launch: list[subprocess.Popen[bytes]]
) -> None:
    process, url = await serving(launch, tmp_path)
    async with aiohttp.ClientSession() as session:
        for user in ("29:ana", "29:bo"):
            activity = activities.personal_message(
                "help", service_url=fake_connector.url, user_id=user
            )
            async with session.post(f"{url}/api/messages", json=activity) as response:
                assert response.status in (200, 201)
    await fake_connector.wait_for_activities(2)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)

    lines = log_lines(stderr)
    stored = [line for line in lines if line["message"] == "conversation stored"]
    assert len(stored) == 2
    ids = [line.get("turn_id") for line in stored]
    assert all(isinstance(turn_id, str) and len(turn_id) == 16 for turn_id in ids)
    assert ids[0] != ids[1], "each request has its own id"
    started = [line for line in lines if line["message"] == "serving the bot"]
    assert started and "turn_id" not in started[0], "lines outside a turn carry none"


def access_lines(stderr: bytes) -> list[str]:
    """The access log's lines: one per request served, the request line in each."""
    return [str(line["message"]) for line in log_lines(stderr) if line["name"] == "aiohttp.access"]


async def test_metrics_is_served_on_port_and_probes_stay_out_of_the_access_log(
    tmp_path: Path, fake_connector: FakeConnector, launch: list[subprocess.Popen[bytes]]
) -> None:
    process, url = await serving(launch, tmp_path, ACCESS_LOG="1")
    async with aiohttp.ClientSession() as session:
        for probe in ("/healthz", "/readyz", "/metrics"):
            async with session.get(f"{url}{probe}") as response:
                assert response.status == 200
        activity = activities.personal_message("help", service_url=fake_connector.url)
        async with session.post(f"{url}/api/messages", json=activity) as response:
            assert response.status in (200, 201)
        await fake_connector.wait_for_activities(1)
        async with session.get(f"{url}/metrics") as response:
            text = await response.text()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)

    assert 'handoff_turn_seconds_count{kind="message"} 1.0' in text
    assert 'handoff_connector_requests_total{status="200"} 1.0' in text
    lines = access_lines(stderr)
    assert len(lines) == 1 and '"POST /api/messages HTTP/1.1"' in lines[0], lines


async def test_with_an_app_id_metrics_is_on_metrics_port_alone(
    tmp_path: Path,
    fake_token_service: FakeTokenService,
    launch: list[subprocess.Popen[bytes]],
) -> None:
    port, metrics_port = free_port(), free_port()
    env = bot_environment(
        tmp_path,
        PORT=str(port),
        METRICS_PORT=str(metrics_port),
        HOST="127.0.0.1",
        MicrosoftAppId="bot-app-id",
        MicrosoftAppPassword="bot-secret",
        MicrosoftAppTenantId=DEFAULT_TENANT_ID,
        # The keys that sign Teams' tokens come from the local fake, over its test CA.
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=fake_token_service.openid_metadata_url,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=fake_token_service.authority(),
        REQUESTS_CA_BUNDLE=str(fake_token_service.ca_file),
    )
    process = start(launch, env)
    url, internal = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}"
    await wait_until_ready(url, process)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/metrics") as response:
            assert response.status == 404
        async with session.get(f"{internal}/metrics") as response:
            assert response.status == 200
            assert "# TYPE handoff_handoffs_total gauge" in await response.text()
        async with session.post(f"{url}/api/messages", json={}) as response:
            assert response.status == 401
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=15)

    assert process.returncode == 0
    served = [line for line in log_lines(stderr) if line["message"] == "serving /metrics"]
    assert [line["url"] for line in served] == [f"{internal}/metrics"]
    # No access log by default; the refusal still has its own line.
    assert access_lines(stderr) == []
    refused = [line for line in log_lines(stderr) if line["message"] == "request refused"]
    assert [line["status"] for line in refused] == [401], refused


def test_metrics_port_equal_to_port_stops_start_up_naming_both(
    tmp_path: Path, launch: list[subprocess.Popen[bytes]]
) -> None:
    port = str(free_port())
    env = bot_environment(
        tmp_path,
        PORT=port,
        METRICS_PORT=port,
        MicrosoftAppId="bot-app-id",
        MicrosoftAppPassword="bot-secret",
        MicrosoftAppTenantId=DEFAULT_TENANT_ID,
    )
    process = start(launch, env)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert b"Traceback" not in stderr
    [error] = [line for line in log_lines(stderr) if line["level"] == "ERROR"]
    assert f"METRICS_PORT ({port}) must differ from PORT ({port})" in str(error["error"])


def test_a_metrics_port_taken_stops_start_up_in_one_line(
    tmp_path: Path, launch: list[subprocess.Popen[bytes]]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        metrics_port = taken.getsockname()[1]
        env = bot_environment(
            tmp_path,
            PORT=str(free_port()),
            METRICS_PORT=str(metrics_port),
            HOST="127.0.0.1",
            MicrosoftAppId="bot-app-id",
            MicrosoftAppPassword="bot-secret",
            MicrosoftAppTenantId=DEFAULT_TENANT_ID,
        )
        process = start(launch, env)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert b"Traceback" not in stderr
    [error] = [line for line in log_lines(stderr) if line["level"] == "ERROR"]
    assert str(error["message"]).startswith(f"cannot start: METRICS_PORT {metrics_port}")
    assert not (tmp_path / "bot.db").exists(), "nothing was opened"


def gc_collections(metrics: str) -> int:
    """Passes of the garbage collector since the process started, all generations."""
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in metrics.splitlines()
        if line.startswith("python_gc_collections_total{")
    )


async def test_the_collector_is_off_while_starting_and_on_while_serving(
    tmp_path: Path, fake_connector: FakeConnector, launch: list[subprocess.Popen[bytes]]
) -> None:
    process, url = await serving(launch, tmp_path)
    turns = 30
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/metrics") as response:
            at_start = gc_collections(await response.text())
        for n in range(turns):
            activity = activities.personal_message(
                "help", service_url=fake_connector.url, user_id=f"29:gc-{n}"
            )
            async with session.post(f"{url}/api/messages", json=activity) as response:
                assert response.status in (200, 201)
        await fake_connector.wait_for_activities(turns)
        async with session.get(f"{url}/metrics") as response:
            later = gc_collections(await response.text())
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=15)

    # Importing alone would have made ~200 passes (over objects that all stay).
    assert at_start < 20, at_start
    assert later > at_start, (at_start, later)
