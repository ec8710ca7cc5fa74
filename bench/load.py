"""The bench's load generator, run as its own process so its CPU is not the bot's.

    python bench/load.py SPEC_FILE RESULT_FILE

SPEC_FILE (JSON): {"url": ".../api/messages", "concurrency": N, "sessions": [session, ...],
"max_seconds": S}. A session is a list of activities sent in order by one virtual user; each
of the N users takes the next session until none are left or ``max_seconds`` have passed (a
bounded run). The bench runs its warm-up as a run of its own, so the bot's CPU counters
bracket only the measured one.

Instead of "sessions", a memory soak gives "soak" (see :func:`soak_sessions`): its turns are
made here, one at a time, as a hundred thousand of them would not fit a spec file. With
"rss_pid", the bot's resident memory is read from /proc every "rss_every_s" seconds, with the
turns answered by then.
RESULT_FILE gets {"latencies_ms": [...], "seconds": wall time, "turns": n, "errors": {...},
"rss": [[turns, MB], ...]}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

HEADERS = {"Content-Type": "application/json"}
Session = list[dict[str, Any]]


def soak_sessions(soak: dict[str, Any]) -> Iterator[Session]:
    """``turns`` one-turn sessions: mostly the ``regulars`` (who met the bot before), one in
    ``fresh_every`` someone new (``fresh_prefix`` and a number: a conversation the bot has
    never seen), one in ``status_every`` a `status` of one of ``cases``, else `help`. Ids
    count up from ``id_base``, so no two runs send the same one."""
    sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests")]
    from harness import activities

    regulars: list[str] = soak["regulars"]
    cases: list[str] = soak["cases"]
    # Each regular's message made once and copied with its text, id and times swapped: the
    # generator keeps ahead of the bot on its one CPU. (The times too: the bot takes the same
    # words from the same person at the same local time for a repeat, and ignores them.)
    made: dict[str, dict[str, Any]] = {}
    zone = None
    for n in range(soak["turns"]):
        if n % soak["fresh_every"] == 0:
            user = f"{soak['fresh_prefix']}{n}"
            base = activities.personal_message("help", soak["service_url"], user_id=user)
        else:
            user = regulars[n % len(regulars)]
            base = made.get(user) or made.setdefault(
                user, activities.personal_message("help", soak["service_url"], user_id=user)
            )
        zone = zone or datetime.fromisoformat(base["localTimestamp"]).tzinfo
        now = datetime.now(UTC)
        activity = {
            **base,
            "id": str(soak["id_base"] + n),
            "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "localTimestamp": now.astimezone(zone).isoformat(timespec="milliseconds"),
        }
        if n % soak["status_every"] == 0:
            text = f"status {cases[n % len(cases)]}"
            activity["text"] = text
            activity["attachments"] = [{"contentType": "text/html", "content": f"<p>{text}</p>"}]
        yield [activity]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _run(
    session: aiohttp.ClientSession,
    url: str,
    sessions: Iterator[Session],
    concurrency: int,
    deadline: float,
    latencies: list[float],
) -> tuple[Counter[str], float]:
    errors: Counter[str] = Counter()

    async def user() -> None:
        while time.perf_counter() < deadline:
            turns = next(sessions, None)
            if turns is None:
                return
            for activity in turns:
                body = json.dumps(activity).encode()
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=HEADERS) as response:
                        await response.read()
                        status = response.status
                except aiohttp.ClientError as error:
                    errors[type(error).__name__] += 1
                    continue
                latencies.append((time.perf_counter() - started) * 1000)
                if status >= 300:
                    errors[str(status)] += 1

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    return errors, time.perf_counter() - started


async def _sample(pid: int, every: float, latencies: list[float], rss: list[list[float]]) -> None:
    while True:
        rss.append([len(latencies), rss_mb(pid)])
        await asyncio.sleep(every)


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    sessions = iter(spec["sessions"]) if "sessions" in spec else soak_sessions(spec["soak"])
    rss: list[list[float]] = []
    latencies: list[float] = []
    pid = spec.get("rss_pid")
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        deadline = time.perf_counter() + spec["max_seconds"]
        run = _run(session, spec["url"], sessions, spec["concurrency"], deadline, latencies)
        if pid is None:
            errors, seconds = await run
        else:
            every = spec.get("rss_every_s", 1.0)
            sampler = asyncio.create_task(_sample(pid, every, latencies, rss))
            errors, seconds = await run
            sampler.cancel()
            rss.append([len(latencies), rss_mb(pid)])
    return {
        "latencies_ms": latencies,
        "seconds": seconds,
        "turns": len(latencies),
        "errors": dict(errors),
        "rss": rss,
    }


if __name__ == "__main__":
    result = asyncio.run(main(json.loads(Path(sys.argv[1]).read_text())))
    Path(sys.argv[2]).write_text(json.dumps(result))
