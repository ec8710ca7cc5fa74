"""The bench's load generator, run as its own process so its CPU is not the bot's.

    python bench/load.py SPEC_FILE RESULT_FILE

SPEC_FILE (JSON): {"url": ".../api/messages", "concurrency": N, "sessions": [session, ...],
"max_seconds": S}. A session is a list of activities sent in order by one virtual user; each
of the N users takes the next session until none are left or ``max_seconds`` have passed (a
bounded run). The bench runs its warm-up as a run of its own, so the bot's CPU counters
bracket only the measured one.
RESULT_FILE gets {"latencies_ms": [...], "seconds": wall time, "turns": n, "errors": {...}}.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

HEADERS = {"Content-Type": "application/json"}


async def _run(
    session: aiohttp.ClientSession,
    url: str,
    sessions: list[list[dict[str, Any]]],
    concurrency: int,
    deadline: float,
) -> tuple[list[float], Counter[str], float]:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    pending = iter(sessions)

    async def user() -> None:
        while time.perf_counter() < deadline:
            turns = next(pending, None)
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
    return latencies, errors, time.perf_counter() - started


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        deadline = time.perf_counter() + spec["max_seconds"]
        latencies, errors, seconds = await _run(
            session, spec["url"], spec["sessions"], spec["concurrency"], deadline
        )
    return {
        "latencies_ms": latencies,
        "seconds": seconds,
        "turns": len(latencies),
        "errors": dict(errors),
    }


if __name__ == "__main__":
    result = asyncio.run(main(json.loads(Path(sys.argv[1]).read_text())))
    Path(sys.argv[2]).write_text(json.dumps(result))
