"""What the fake services share: a recording aiohttp server on loopback with a fault queue.

Each fake runs its aiohttp application on its own event loop in a daemon thread. That is
deliberate: the code under test makes blocking HTTP calls (msal and botframework's OpenID
metadata fetch use ``requests``, in places directly on the event loop), and a fake served
from the test's own loop would deadlock on them. It also makes the fakes usable from sync
tests and from fixtures of any scope, independent of pytest-asyncio's per-test loops.

Everything a test reads or changes (recorded requests, faults, registries) is guarded by
one lock per server; route handlers are plain functions that run under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

__all__ = [
    "Answer",
    "FakeServer",
    "Incoming",
    "RecordedRequest",
    "Route",
]

_log = logging.getLogger(__name__)

# Generous bounds for thread start-up and shutdown; both normally take milliseconds.
_THREAD_TIMEOUT = 10.0


@dataclass(frozen=True)
class RecordedRequest:
    """One request a fake received, in arrival order, with what it answered."""

    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: Any
    """Parsed JSON; a dict for form posts; the text for anything else; None when empty."""
    headers: CIMultiDictProxy[str]
    """Case-insensitive: ``headers["authorization"]`` works."""
    query: Mapping[str, str] = field(default_factory=dict)
    status: int = 0
    response: Any = None
    """The JSON the fake answered with, or None for an empty body."""
    at: float = 0.0
    """time.monotonic() when the request arrived (to check rates)."""
    peer: str = ""
    """The client's address and port: one value per TCP connection, so keep-alive reuse
    shows as several requests sharing a peer."""


@dataclass(frozen=True)
class Incoming:
    """A parsed request, as route handlers see it."""

    method: str
    path: str
    match: Mapping[str, str]
    query: Mapping[str, str]
    body: Any
    headers: CIMultiDictProxy[str]


@dataclass(frozen=True)
class Answer:
    """What a route handler answers; ``payload`` None means an empty body."""

    status: int = 200
    payload: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    conversation_id: str | None = None
    """Overrides the conversation id recorded (default: the ``conversationId`` or ``chatId``
    in the path), e.g. with the id a create-conversation call made."""
    activity_id: str | None = None
    """Overrides the activity id recorded (e.g. the id the fake assigned)."""


Handler = Callable[[Incoming], Answer]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    """An aiohttp route pattern, e.g. ``/v3/conversations/{conversationId}/activities``."""
    handler: Handler


@dataclass
class _Fault:
    status: int
    remaining: int
    retry_after: str | None
    code: str | None
    message: str | None
    method: str | None
    path_contains: str | None

    def applies_to(self, incoming: Incoming) -> bool:
        if self.method is not None and incoming.method.upper() != self.method.upper():
            return False
        return self.path_contains is None or self.path_contains in incoming.path


def _parse_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        return json.loads(text)
    except ValueError:
        return text


def _response_payload(response: web.StreamResponse) -> Any:
    body = response.body if isinstance(response, web.Response) else None
    if not isinstance(body, bytes) or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", errors="replace")


class FakeServer:
    """Base of the fakes: subclasses provide :meth:`_routes` (and may override the hooks).

    Use as ``with Fake() as fake:``, ``async with Fake() as fake:``, or
    ``start()``/``close()`` (async) and ``start_sync()``/``close_sync()``.
    """

    def _recorded_body(self, body: Any) -> Any:
        """What the record keeps of a request's body (a fake may keep it otherwise)."""
        return body

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl_context = ssl_context
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        # (seconds, remaining, method, path_contains): slow answers, taken like faults.
        self._delays: list[list[Any]] = []
        # (unused, remaining, method, path_contains): requests handled and then left
        # unanswered, taken like delays.
        self._lost_answers: list[list[Any]] = []
        # Requests a delay held back, as they arrived (before they are answered and recorded).
        self._held: list[Incoming] = []
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._port: int | None = None

    # -- subclass hooks ---------------------------------------------------------------

    def _routes(self) -> Iterable[Route]:
        raise NotImplementedError

    def _authorize(self, incoming: Incoming) -> Answer | None:
        """An answer that refuses the request, or None to let it through."""
        return None

    def _error_payload(self, status: int, code: str | None, message: str | None) -> Any:
        """The body of an injected fault; the Bot Connector and Graph share this shape."""
        return {
            "error": {
                "code": code or f"Http{status}",
                "message": message or f"Injected fault: HTTP {status}.",
            }
        }

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._thread is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL with a trailing slash, e.g. ``http://127.0.0.1:40123/``."""
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/"

    def start_sync(self) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        # Bound here, not by aiohttp, so the port is known before the thread runs.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        ready = threading.Event()
        errors: list[BaseException] = []
        thread = threading.Thread(
            target=self._serve,
            args=(sock, ready, errors),
            name=f"{type(self).__name__}:{self._port}",
            daemon=True,
        )
        thread.start()
        if not ready.wait(_THREAD_TIMEOUT):
            raise RuntimeError(f"{type(self).__name__} did not start in {_THREAD_TIMEOUT}s")
        if errors:
            thread.join(_THREAD_TIMEOUT)
            self._port = None
            raise RuntimeError(f"{type(self).__name__} failed to start") from errors[0]
        self._thread = thread
        return self

    def close_sync(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None:
            return
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        thread.join(_THREAD_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError(f"{type(self).__name__} did not stop in {_THREAD_TIMEOUT}s")
        self._thread = None
        self._loop = None
        self._port = None

    async def start(self) -> Self:
        return await asyncio.to_thread(self.start_sync)

    async def close(self) -> None:
        await asyncio.to_thread(self.close_sync)

    def __enter__(self) -> Self:
        return self.start_sync()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close_sync()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _build_app(self) -> web.Application:
        app = web.Application()
        for route in self._routes():
            app.router.add_route(route.method, route.path, self._wrap(route.handler))
        # Anything unexpected is still recorded, and answered like an unknown API would be.
        app.router.add_route("*", "/{tail:.*}", self._wrap(self._not_found))
        return app

    def _serve(
        self, sock: socket.socket, ready: threading.Event, errors: list[BaseException]
    ) -> None:
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(
            self._build_app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        try:
            loop.run_until_complete(runner.setup())
            site = web.SockSite(runner, sock, ssl_context=self._ssl_context)
            loop.run_until_complete(site.start())
        except BaseException as exc:  # handed to start_sync, which raises it in the caller
            errors.append(exc)
            loop.run_until_complete(runner.cleanup())
            loop.close()
            sock.close()
            ready.set()
            return
        self._loop = loop
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    # -- request handling (server thread) ----------------------------------------------

    def _not_found(self, incoming: Incoming) -> Answer:
        return Answer(
            404,
            self._error_payload(
                404, "NotFound", f"No fake route for {incoming.method} {incoming.path}"
            ),
        )

    def _wrap(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            raw = await request.read()
            arrived = time.monotonic()
            incoming = Incoming(
                method=request.method,
                path=request.path,
                match=dict(request.match_info),
                query=dict(request.query),
                body=_parse_body(raw, request.content_type),
                headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            )
            peername = request.transport.get_extra_info("peername") if request.transport else None
            peer = f"{peername[0]}:{peername[1]}" if peername else ""
            with self._lock:
                delay = self._take(self._delays, incoming)
                if delay:
                    self._held.append(incoming)
                    self._notify()
            if delay:
                await asyncio.sleep(float(delay))
            with self._lock:
                answer = self._answer(handler, incoming)
                response = self._response(answer)
                self._record(incoming, answer, response, arrived, peer)
                lost = self._take(self._lost_answers, incoming) is not None
            if lost and request.transport is not None:
                # Done and recorded, but the client never hears: a network cut mid-answer.
                request.transport.abort()
            return response

        return handle

    def _answer(self, handler: Handler, incoming: Incoming) -> Answer:
        fault = self._take_fault(incoming)
        if fault is not None:
            return fault
        refusal = self._authorize(incoming)
        if refusal is not None:
            return refusal
        try:
            return handler(incoming)
        except Exception as exc:
            # A bug in a fake must show up as a recorded 500 with its reason, not as a
            # connection reset the code under test might retry around.
            _log.exception("fake route failed: %s %s", incoming.method, incoming.path)
            return Answer(500, self._error_payload(500, "FakeServerError", repr(exc)))

    @staticmethod
    def _take(entries: list[list[Any]], incoming: Incoming) -> Any:
        """The first entry's value that applies to the request (counting it down), or None."""
        for entry in entries:
            value, _, method, path_contains = entry
            if method is not None and incoming.method.upper() != method.upper():
                continue
            if path_contains is not None and path_contains not in incoming.path:
                continue
            entry[1] -= 1
            if entry[1] <= 0:
                entries.remove(entry)
            return value
        return None

    def _take_fault(self, incoming: Incoming) -> Answer | None:
        for fault in self._faults:
            if fault.applies_to(incoming):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                headers = {} if fault.retry_after is None else {"Retry-After": fault.retry_after}
                payload = self._error_payload(fault.status, fault.code, fault.message)
                return Answer(fault.status, payload, headers)
        return None

    @staticmethod
    def _response(answer: Answer) -> web.Response:
        if answer.payload is None:
            return web.Response(status=answer.status, headers=dict(answer.headers))
        return web.json_response(answer.payload, status=answer.status, headers=dict(answer.headers))

    def _record(
        self,
        incoming: Incoming,
        answer: Answer,
        response: web.Response,
        arrived: float,
        peer: str = "",
    ) -> None:
        record = RecordedRequest(
            method=incoming.method,
            path=incoming.path,
            conversation_id=(
                answer.conversation_id
                or incoming.match.get("conversationId")
                or incoming.match.get("chatId")
            ),
            activity_id=answer.activity_id or incoming.match.get("activityId"),
            body=self._recorded_body(incoming.body),
            headers=incoming.headers,
            query=incoming.query,
            status=answer.status,
            response=_response_payload(response),
            at=arrived,
            peer=peer,
        )
        self._requests.append(record)
        self._notify()

    def _notify(self) -> None:
        """Wakes every waiter (called under the lock)."""
        self._changed.notify_all()
        for loop, event in self._async_waiters:
            # The waiter's loop may have closed since it registered; it is gone then.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(event.set)

    # -- test-facing API (any thread) ----------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def connections_seen(self) -> int:
        """How many TCP connections the recorded requests came over."""
        with self._lock:
            return len({r.peer for r in self._requests})

    def fail_next(
        self,
        status: int,
        count: int = 1,
        retry_after: int | str | None = None,
        *,
        code: str | None = None,
        message: str | None = None,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next ``count`` requests with ``status`` (and ``Retry-After``, if given).

        ``method``/``path_contains`` narrow which requests the fault hits; faults queue up
        in the order given and are checked before authorization.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.append(
                _Fault(
                    status=status,
                    remaining=count,
                    retry_after=None if retry_after is None else str(retry_after),
                    code=code,
                    message=message,
                    method=method,
                    path_contains=path_contains,
                )
            )

    def delay_next(
        self,
        seconds: float,
        count: int = 1,
        *,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests only after ``seconds`` (a slow cloud).
        Such a request is in :attr:`held` from its arrival, and recorded once answered."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._delays.append([seconds, count, method, path_contains])

    def lose_answers(
        self, count: int = 1, *, method: str | None = None, path_contains: str | None = None
    ) -> None:
        """Handle the next ``count`` matching requests, then cut the connection before the
        answer goes out: the client cannot tell whether they were done."""
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._lost_answers.append([True, count, method, path_contains])

    @property
    def held(self) -> list[Incoming]:
        """Every request a delay held back, in arrival order, answered yet or not."""
        with self._lock:
            return list(self._held)

    async def wait_for_held(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 -- a bounded wait is this helper's contract
    ) -> list[Incoming]:
        """Wait until ``count`` requests have arrived and been held back by a delay: their
        client is then waiting for the answer (a turn in progress, say)."""
        await self._wait_until(
            lambda: len(self.held) >= count,
            timeout,
            lambda: (
                f"timed out after {timeout}s waiting for {count} held request(s); "
                f"{len(self.held)} held, {len(self.requests)} recorded"
            ),
        )
        return self.held

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return sum(fault.remaining for fault in self._faults)

    def clear(self) -> None:
        """Forget recorded requests and pending faults (registries are kept)."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._held.clear()

    def _matching(
        self, predicate: Callable[[RecordedRequest], bool]
    ) -> tuple[list[RecordedRequest], list[RecordedRequest]]:
        with self._lock:
            snapshot = list(self._requests)
        return [r for r in snapshot if predicate(r)], snapshot

    async def wait_for(
        self,
        predicate: Callable[[RecordedRequest], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 -- a bounded wait is this helper's contract
        *,
        count: int = 1,
        description: str = "a matching request",
    ) -> list[RecordedRequest]:
        """Wait until at least ``count`` recorded requests satisfy ``predicate``.

        Returns all matching requests. Wakes on every new request rather than polling on a
        timer; raises AssertionError listing what was recorded if ``timeout`` passes.
        """
        found: list[RecordedRequest] = []
        snapshot: list[RecordedRequest] = []

        def enough() -> bool:
            nonlocal found, snapshot
            found, snapshot = self._matching(predicate)
            return len(found) >= count

        await self._wait_until(
            enough, timeout, lambda: self._timeout_report(timeout, count, description, snapshot)
        )
        return found

    async def _wait_until(
        self,
        ready: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109 -- a bounded wait is this helper's contract
        report: Callable[[], str],
    ) -> None:
        """Waits until `ready()`, looking again whenever a request arrives or is recorded;
        AssertionError with `report()` when `timeout` passes first."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        waiter = (loop, event)
        deadline = loop.time() + timeout
        with self._lock:
            self._async_waiters.add(waiter)
        try:
            while True:
                # Cleared before looking, so a request recorded after the look still wakes us.
                event.clear()
                if ready():
                    return
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise AssertionError(report())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._lock:
                self._async_waiters.discard(waiter)

    def wait_for_sync(
        self,
        predicate: Callable[[RecordedRequest], bool],
        timeout: float = 5.0,
        *,
        count: int = 1,
        description: str = "a matching request",
    ) -> list[RecordedRequest]:
        """:meth:`wait_for` for sync tests (blocks the calling thread, never the fake)."""
        found: list[RecordedRequest] = []

        def satisfied() -> bool:
            found[:] = [r for r in self._requests if predicate(r)]
            return len(found) >= count

        with self._changed:
            if self._changed.wait_for(satisfied, timeout):
                return list(found)
            snapshot = list(self._requests)
        raise AssertionError(self._timeout_report(timeout, count, description, snapshot))

    @staticmethod
    def _timeout_report(
        timeout: float, count: int, description: str, snapshot: list[RecordedRequest]
    ) -> str:
        lines = [
            f"timed out after {timeout}s waiting for {count} x {description}; "
            f"{len(snapshot)} request(s) recorded:"
        ]
        for record in snapshot:
            body = json.dumps(record.body, default=str) if record.body is not None else ""
            if len(body) > 300:
                body = body[:300] + "..."
            lines.append(f"  {record.method} {record.path} -> {record.status} {body}")
        return "\n".join(lines)
