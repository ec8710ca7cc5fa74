"""A lean Bot Connector fake for the bench, in its own process: plain HTTP and HTTPS at once.

Unlike tests/harness/fake_connector.py it keeps no request log (a bench sends hundreds of
thousands); it counts requests and new TCP connections, keeps the last few activities so the
bench can read which card a dialog showed, and answers like the real service.

    python bench/fake_connector.py STATE_FILE CA_FILE

It binds two ephemeral ports on 127.0.0.1 and writes {"http": port, "https": port} to
STATE_FILE once both listen; the CA it made for HTTPS goes to CA_FILE (PEM).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import signal
import ssl
import sys
import time
from pathlib import Path
from typing import Any

import trustme
from aiohttp import web

_ids = itertools.count(int(time.time() * 1000))


class Counters:
    def __init__(self) -> None:
        self.requests = 0
        self.connections = 0
        self.by_method: collections.Counter[str] = collections.Counter()
        self.last: collections.deque[dict[str, Any]] = collections.deque(maxlen=20)


def build_app(counters: Counters) -> web.Application:
    async def activity(request: web.Request) -> web.Response:
        counters.requests += 1
        counters.by_method[request.method] += 1
        body = await request.read()
        if request.method in ("POST", "PUT") and body:
            counters.last.append(json.loads(body))
        if request.method == "PUT":
            return web.json_response({"id": request.match_info["activityId"]})
        if request.method == "DELETE":
            return web.Response(status=200)
        return web.json_response({"id": str(next(_ids))})

    async def create(request: web.Request) -> web.Response:
        counters.requests += 1
        counters.by_method["POST"] += 1
        body = await request.json()
        activity_id = str(next(_ids))
        if isinstance(body.get("activity"), dict):
            counters.last.append(body["activity"])
        return web.json_response({"id": f"a:{activity_id}", "activityId": activity_id}, status=201)

    async def member(request: web.Request) -> web.Response:
        counters.requests += 1
        counters.by_method["GET"] += 1
        member_id = request.match_info["memberId"]
        return web.json_response({"id": member_id, "name": f"User {member_id}"})

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(
            {
                "requests": counters.requests,
                "connections": counters.connections,
                "by_method": dict(counters.by_method),
            }
        )

    async def last(_request: web.Request) -> web.Response:
        return web.json_response(list(counters.last))

    app = web.Application(client_max_size=1024 * 1024)
    conversation = "/v3/conversations/{conversationId}"
    app.router.add_post("/v3/conversations", create)
    app.router.add_post(conversation + "/activities", activity)
    app.router.add_route("*", conversation + "/activities/{activityId}", activity)
    app.router.add_get(conversation + "/members/{memberId}", member)
    app.router.add_get("/_stats", stats)
    app.router.add_get("/_last", last)
    return app


async def serve(state_file: Path, ca_file: Path) -> None:
    counters = Counters()
    ca = trustme.CA()
    ca_file.write_bytes(ca.cert_pem.bytes())  # noqa: ASYNC240 -- once, before serving
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)

    runner = web.AppRunner(build_app(counters), access_log=None)
    await runner.setup()
    server = runner.server
    assert server is not None
    made = server.connection_made

    def count_connection(handler: Any, transport: Any) -> None:
        counters.connections += 1
        made(handler, transport)

    server.connection_made = count_connection  # type: ignore[method-assign]
    plain = web.TCPSite(runner, "127.0.0.1", 0)
    secure = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await plain.start()
    await secure.start()
    ports = {
        "http": plain._server.sockets[0].getsockname()[1],  # type: ignore[union-attr]
        "https": secure._server.sockets[0].getsockname()[1],  # type: ignore[union-attr]
    }
    state_file.write_text(json.dumps(ports))  # noqa: ASYNC240 -- once, before serving
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), Path(sys.argv[2])))
