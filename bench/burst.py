"""A burst of clicks on one card, as its own process (on the load generator's CPU): every
invoke of the spec sent at the same instant, one `asyncio.gather`, over connections opened
beforehand (as Teams' own keep-alive ones would be), so the burst measures the bot and not
20 TCP handshakes.

    python bench/burst.py SPEC_FILE RESULT_FILE

SPEC_FILE (JSON): {"url": ".../api/messages", "ready_url": ".../healthz", "invokes": [...]}.
RESULT_FILE gets {"last_ms": from the start to the last answer, "answers": [{"user", "status",
"ms", "body"}, ...]} in the order of the invokes.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

HEADERS = {"Content-Type": "application/json"}


async def _answer(
    session: aiohttp.ClientSession, url: str, body: bytes, started: float
) -> tuple[int, float, str]:
    async with session.post(url, data=body, headers=HEADERS) as response:
        text = await response.text()
        return response.status, (time.perf_counter() - started) * 1000, text


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    invokes: list[dict[str, Any]] = spec["invokes"]
    bodies = [json.dumps(invoke).encode() for invoke in invokes]
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def probe() -> None:
            async with session.get(spec["ready_url"]) as response:
                await response.read()

        # One connection per clicker, left open in the pool for the burst.
        await asyncio.gather(*(probe() for _ in invokes))
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(_answer(session, spec["url"], body, started) for body in bodies)
        )
        last_ms = (time.perf_counter() - started) * 1000
    return {
        "last_ms": last_ms,
        "answers": [
            {"user": invoke["from"]["id"], "status": status, "ms": ms, "body": text}
            for invoke, (status, ms, text) in zip(invokes, answers, strict=True)
        ],
    }


if __name__ == "__main__":
    result = asyncio.run(main(json.loads(Path(sys.argv[1]).read_text())))
    Path(sys.argv[2]).write_text(json.dumps(result))
