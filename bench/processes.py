"""The processes of a bench run: each started with its log in bench/.data/logs/, waited for
until it answers /readyz, measured from /proc (CPU, memory) and stopped by its PID. The lean
fake Bot Connector (bench/fake_connector.py) and the bots, ours and the reference echo bots.

Pinned as production runs them (a one-vCPU replica): every bot on one CPU, the load
generator, the fake connector and the bench itself on the other (``taskset``); see
:class:`Pinning`."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bot_process import IMAGE_PYTHONOPTIMIZE
from harness.bot_process import bot_environment as local_bot_environment

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DATA = BENCH / ".data"
REF_PYTHON = BENCH / ".venv-ref" / "bin" / "python"
START_TIMEOUT = 60.0

progress = logging.getLogger("bench")
_began = time.perf_counter()


def log(message: str) -> None:
    """Progress on standard error, with the seconds since the bench began (standard output
    carries only the table)."""
    progress.info(f"{time.perf_counter() - _began:5.0f} s  {message}")


@dataclass
class Pinning:
    """Which CPU runs what. ``bot`` and ``load`` are None when the processes share every CPU
    (asked for, or a one-CPU machine, or no ``taskset``); ``why`` says which."""

    bot: int | None = None
    load: int | None = None
    why: str = "shared: every process may run on every CPU"

    @classmethod
    def choose(cls, *, pinned: bool) -> Pinning:
        cpus = sorted(os.sched_getaffinity(0))
        if not pinned:
            return cls(why="shared (--shared): every process may run on every CPU")
        if len(cpus) < 2:
            return cls(why=f"shared: {len(cpus)} CPU here, nothing to pin apart")
        if shutil.which("taskset") is None:
            return cls(why="shared: no taskset on this machine")
        bot, load = cpus[0], cpus[1]
        return cls(
            bot=bot,
            load=load,
            why=f"pinned: each bot on CPU {bot}; load generator, fake connector, bench on {load}",
        )

    @property
    def pinned(self) -> bool:
        return self.bot is not None

    def command(self, command: list[str], cpu: int | None) -> list[str]:
        return command if cpu is None else ["taskset", "-c", str(cpu), *command]

    def bot_command(self, command: list[str]) -> list[str]:
        return self.command(command, self.bot)

    def load_command(self, command: list[str]) -> list[str]:
        return self.command(command, self.load)

    def pin_self(self) -> None:
        """The bench's own polling and bookkeeping stays off the bot's CPU."""
        if self.load is not None:
            os.sched_setaffinity(0, {self.load})


# Set once by bench/run.py, before any process starts (the default: shared, as
# bench/profile_turn.py runs); changed in place, so every module's import of it sees the run's.
PINNING = Pinning()


def set_pinning(pinning: Pinning) -> None:
    PINNING.bot, PINNING.load, PINNING.why = pinning.bot, pinning.load, pinning.why
    PINNING.pin_self()


class Processes:
    """Every process the bench starts; :meth:`stop_all` ends each by its PID."""

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (DATA / "logs" / f"{name}.log").open("wb")
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        self._running.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        if process in self._running:
            self._running.remove(process)

    def stop_all(self) -> None:
        for process in list(reversed(self._running)):
            self.stop(process)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> float:
    """Seconds from now until GET /readyz answers 200."""
    started = time.perf_counter()
    while time.perf_counter() - started < START_TIMEOUT:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited while starting; see bench/.data/logs/")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer,
        ):
            if answer.status == 200:
                return time.perf_counter() - started
        time.sleep(0.02)
    raise SystemExit(f"{url} was not ready within {START_TIMEOUT} s")


def cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int, key: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the fake connector ------------------------------------------------------------------


@dataclass
class Connector:
    process: subprocess.Popen[bytes]
    http_port: int
    https_port: int
    ca_file: Path

    def url(self, tls: bool) -> str:
        scheme, port = ("https", self.https_port) if tls else ("http", self.http_port)
        return f"{scheme}://127.0.0.1:{port}/"

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = get_json(f"http://127.0.0.1:{self.http_port}/_stats")
        return stats

    def last_activities(self) -> list[dict[str, Any]]:
        last: list[dict[str, Any]] = get_json(f"http://127.0.0.1:{self.http_port}/_last")
        return last

    def settle(self, quiet: float = 0.6, limit: float = 8.0) -> None:
        """Waits until the bot's background sends (the outbox) stop arriving."""
        started = time.perf_counter()
        seen = self.stats()["requests"]
        calm_since = time.perf_counter()
        while time.perf_counter() - started < limit:
            time.sleep(0.1)
            now = self.stats()["requests"]
            if now != seen:
                seen, calm_since = now, time.perf_counter()
            elif time.perf_counter() - calm_since >= quiet:
                return


def start_connector(processes: Processes) -> Connector:
    state, ca_file = DATA / "connector.json", DATA / "connector-ca.pem"
    state.unlink(missing_ok=True)
    command = [sys.executable, str(BENCH / "fake_connector.py"), str(state), str(ca_file)]
    process = processes.start("fake-connector", PINNING.load_command(command), dict(os.environ))
    deadline = time.perf_counter() + START_TIMEOUT
    while not state.exists():
        if process.poll() is not None or time.perf_counter() > deadline:
            raise SystemExit("the fake connector did not start; see bench/.data/logs/")
        time.sleep(0.05)
    ports = json.loads(state.read_text())
    return Connector(process, ports["http"], ports["https"], ca_file)


# -- the bots ----------------------------------------------------------------------------


@dataclass
class Bot:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    startup_s: float

    @property
    def messages_url(self) -> str:
        return f"{self.url}/api/messages"


def bot_environment(port: int, database_url: str, ca_file: Path) -> dict[str, str]:
    """The handoff bot's settings for a bench run: the tests' local-mode bot (as the image
    runs it) on the given database, with trust in the fake connector's CA (the bot's connector
    client reads it as the SDK's requests did)."""
    return local_bot_environment(
        database_url, PORT=str(port), HOST="127.0.0.1", REQUESTS_CA_BUNDLE=str(ca_file)
    )


def compile_bytecode() -> None:
    """The bot's modules and the virtualenv's compiled to bytecode before a start is timed, at
    the image's optimization level, as the image has them (the Dockerfile's compileall). Where
    PYTHONDONTWRITEBYTECODE is set, as dev containers often do, each start would otherwise
    compile every module of the bot again: 0.1 to 0.2 s of start-up that production never
    spends (and pip compiles the virtualenv only unoptimized)."""
    packages = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file())
    libraries = sysconfig.get_path("purelib")
    command = [sys.executable, "-m", "compileall", "-q", "app.py", *packages, libraries]
    optimized = {**os.environ, "PYTHONOPTIMIZE": IMAGE_PYTHONOPTIMIZE}
    subprocess.run(command, cwd=ROOT, env=optimized, check=True, stdout=subprocess.DEVNULL)


def start_ours(processes: Processes, name: str, database_url: str, connector: Connector) -> Bot:
    port = free_port()
    env = bot_environment(port, database_url, connector.ca_file)
    compile_bytecode()
    started = time.perf_counter()
    process = processes.start(name, PINNING.bot_command([sys.executable, "app.py"]), env)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    log(f"{name}: ready in {time.perf_counter() - started:.2f} s")
    return Bot(name, process, url, time.perf_counter() - started)


def start_reference(processes: Processes, name: str, script: str, connector: Connector) -> Bot:
    port = free_port()
    env = dict(os.environ)
    env.update(
        {"REQUESTS_CA_BUNDLE": str(connector.ca_file), "SSL_CERT_FILE": str(connector.ca_file)}
    )
    started = time.perf_counter()
    command = [str(REF_PYTHON), str(BENCH / script), str(port)]
    process = processes.start(name, PINNING.bot_command(command), env)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url, process)
    log(f"{name}: ready in {time.perf_counter() - started:.2f} s")
    return Bot(name, process, url, time.perf_counter() - started)
