"""Bot Connector calls over one pooled, keep-alive aiohttp session, shaped like the SDK's.

The SDK builds a new msrest ``ConnectorClient`` for every turn (~3 ms of CPU in its retry
policy alone) and sends through ``requests`` on a thread pool, one new TCP/TLS connection per
call (design.md, "Where botbuilder 4.17 spends a turn"). Here one ``aiohttp.ClientSession``
serves every service URL for the life of the process (aiohttp keeps a keep-alive pool per
host), the TLS context is built once, the bot's token is cached until shortly before it
expires, and a ``ConnectorClient``-compatible object per service URL is built once.

It keeps what the SDK does on the wire: ``Authorization: Bearer <token>`` when an app id is
set (none in local mode), the activity serialized by its msrest model, the same REST paths
(reply, send, update in place with PUT, delete, create conversation, member look-ups), and
only idempotent calls retried (the SDK's msrest policy retries GET/PUT/DELETE, never POST).
Failures raise :class:`~teams.sending.SendFailed` with the status and Retry-After, which the
outbox uses to decide when to try again.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import quote

import aiohttp
import orjson
import requests
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationResourceResponse,
    PagedMembersResult,
    ResourceResponse,
)
from botbuilder.schema.teams import TeamDetails
from botframework.connector.models import ErrorResponseException
from msrest.exceptions import ClientRequestError

from graph.errors import GraphAuthError
from outbox.failures import SendFailed
from teams.activity_codec import to_json

log = logging.getLogger(__name__)

USER_AGENT = "Microsoft-BotFramework/3.1 (HandoffBot; aiohttp)"
# The SDK's msrest policy retries these statuses for idempotent methods only.
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})
# Retries inside a turn stay short: Teams waits ~5 s for a card action's answer. A longer
# Retry-After is left to the caller (the outbox retries later; a turn reports the failure).
RETRY_DELAYS_SECONDS = (0.2, 0.5)
MAX_INLINE_RETRY_AFTER_SECONDS = 1.0
REQUEST_TIMEOUT_SECONDS = 30.0
# Shorter than the idle timeout of the connector's load balancers, so a pooled connection is
# dropped by us before the server closes it under a request.
KEEPALIVE_SECONDS = 15.0


@dataclass(frozen=True)
class ConnectorAnswer:
    """What the SDK's exceptions carry as ``response``: code written against the SDK's client
    reads ``error.response.status_code`` (application/access.py does)."""

    status_code: int
    headers: Mapping[str, str]
    text: str


class ConnectorHttpError(SendFailed, ErrorResponseException):  # type: ignore[misc]
    """The Bot Connector answered with an error: a :class:`SendFailed` for the outbox, and the
    SDK's ``ErrorResponseException`` for code that catches what the SDK's client raises."""

    def __init__(self, message: str, answer: ConnectorAnswer, retry_after: float | None) -> None:
        # Neither base's __init__: msrest's wants a raw response to deserialize.
        Exception.__init__(self, message)
        self.status = answer.status_code
        self.retry_after = retry_after
        self.response = answer
        self.message = message
        self.error = None
        self.inner_exception = None


class ConnectorRequestError(SendFailed, ClientRequestError):
    """No answer (connection refused or reset, timeout): retryable, and the SDK's
    ``ClientRequestError``."""

    def __init__(self, message: str) -> None:
        Exception.__init__(self, message)
        self.status = None
        self.retry_after = None
        self.message = message
        self.inner_exception = None


class TokenSource(Protocol):
    async def token(self, *, force_refresh: bool = False) -> str: ...


def client_ssl_context() -> ssl.SSLContext | Literal[True]:
    """What the bot's HTTPS clients trust (their ``TCPConnector``'s ``ssl``): the system's
    trust store, or, where ``REQUESTS_CA_BUNDLE`` is set, that bundle instead, as the SDK's
    requests did (a bundle replaces the store there, it does not add to it), so deployments
    (and the test fakes) that rely on it keep working.

    A context holding the system's store takes ~2 MB and ~30 ms to build, so none is built
    here: without a bundle aiohttp's own default (True: built once when aiohttp is imported),
    with one a context holding only the bundle, shared by every client."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    return _trusting(bundle) if bundle else True


@functools.cache
def _trusting(bundle: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=bundle)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("Retry-After")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _error_text(status: int, payload: Any) -> str:
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return f"Bot Connector answered {status}: {error.get('code')}: {error.get('message')}"
    return f"Bot Connector answered {status}"


class ConnectorHttp:
    """The one HTTP session for the Bot Connector; :meth:`start` and :meth:`close` bracket
    the application's life (aiohttp sessions belong to a running event loop)."""

    def __init__(
        self,
        tokens: TokenSource | None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS_SECONDS,
        on_answer: Callable[[int | None], None] = lambda _status: None,
    ) -> None:
        self._tokens = tokens
        self._ssl_context = ssl_context
        self._retry_delays = tuple(retry_delays)
        # Told each request's status (None: no answer), retries included: every request
        # that reaches the Bot Connector goes through _once, so /metrics counts them here.
        self._on_answer = on_answer
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is not None:
            return
        connector = aiohttp.TCPConnector(
            ssl=self._ssl_context or client_ssl_context(),
            limit=200,
            keepalive_timeout=KEEPALIVE_SECONDS,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, url: str, body: Any = None) -> Any:
        """Sends one request; returns the parsed JSON answer (None when empty)."""
        if self._session is None:
            raise RuntimeError("the Bot Connector session is not started (ConnectorHttp.start)")
        headers = {}
        if self._tokens is not None:
            try:
                headers["Authorization"] = f"Bearer {await self._tokens.token()}"
            except GraphAuthError as error:
                # A refused app is a setting to fix (the hint says which), not a retry.
                raise SendFailed(
                    f"no Bot Connector token: {error}", status=401, retry_after=None
                ) from error
            except (requests.RequestException, OSError) as error:
                raise SendFailed(
                    f"token service unreachable: {error}", status=None, retry_after=None
                ) from error
        data = None if body is None else orjson.dumps(body)
        if data is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        attempts = len(self._retry_delays) + 1 if method in _IDEMPOTENT else 1
        for attempt in range(attempts):
            failure = await self._once(method, url, data, headers)
            if not isinstance(failure, SendFailed):
                return failure
            last = attempt == attempts - 1
            retryable = failure.status is None or failure.status in _RETRY_STATUSES
            if last or not retryable:
                raise failure
            delay = self._retry_delays[attempt]
            if failure.retry_after is not None:
                if failure.retry_after > MAX_INLINE_RETRY_AFTER_SECONDS:
                    raise failure
                delay = failure.retry_after
            log.info("Bot Connector %s %s failed (%s); retrying", method, url, failure.status)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str]
    ) -> Any:
        """The parsed answer, or a SendFailed to raise or retry."""
        assert self._session is not None
        answered = False
        try:
            async with self._session.request(method, url, data=data, headers=headers) as answer:
                answered = True
                self._on_answer(answer.status)
                raw = await answer.read()
                try:
                    payload = orjson.loads(raw) if raw else None
                except ValueError:
                    if answer.status < 400:
                        return ConnectorRequestError("the Bot Connector's answer is not JSON")
                    payload = None  # an error page from a proxy: the status says enough
                if answer.status < 400:
                    return payload
                return ConnectorHttpError(
                    _error_text(answer.status, payload),
                    ConnectorAnswer(answer.status, answer.headers, raw.decode(errors="replace")),
                    _retry_after(answer.headers),
                )
        except (aiohttp.ClientError, TimeoutError) as error:
            if not answered:
                self._on_answer(None)
            return ConnectorRequestError(f"{type(error).__name__}: {error}")


def _segment(value: str) -> str:
    # As the SDK's msrest serializer: every reserved character escaped (";", ":" and "@"
    # are common in Teams conversation ids).
    return quote(value, safe="")


class PooledConversations:
    """The ``ConversationsOperations`` calls the SDK and this bot make, on the shared session."""

    def __init__(self, http: ConnectorHttp, service_url: str) -> None:
        self._http = http
        self._base = service_url.rstrip("/") + "/v3/conversations"

    def _activities(self, conversation_id: str, activity_id: str | None = None) -> str:
        url = f"{self._base}/{_segment(conversation_id)}/activities"
        return url if activity_id is None else f"{url}/{_segment(activity_id)}"

    @staticmethod
    def _resource(payload: Any) -> ResourceResponse:
        return ResourceResponse(id=payload.get("id") if isinstance(payload, dict) else None)

    async def send_to_conversation(
        self, conversation_id: str, activity: Activity, **_: Any
    ) -> ResourceResponse:
        payload = await self._http.call(
            "POST", self._activities(conversation_id), to_json(activity)
        )
        return self._resource(payload)

    async def reply_to_activity(
        self, conversation_id: str, activity_id: str, activity: Activity, **_: Any
    ) -> ResourceResponse:
        url = self._activities(conversation_id, activity_id)
        return self._resource(await self._http.call("POST", url, to_json(activity)))

    async def update_activity(
        self, conversation_id: str, activity_id: str, activity: Activity, **_: Any
    ) -> ResourceResponse:
        url = self._activities(conversation_id, activity_id)
        return self._resource(await self._http.call("PUT", url, to_json(activity)))

    async def delete_activity(self, conversation_id: str, activity_id: str, **_: Any) -> None:
        await self._http.call("DELETE", self._activities(conversation_id, activity_id))

    async def create_conversation(
        self, parameters: ConversationParameters, **_: Any
    ) -> ConversationResourceResponse:
        payload = await self._http.call("POST", self._base, to_json(parameters))
        payload = payload if isinstance(payload, dict) else {}
        return ConversationResourceResponse(
            id=payload.get("id"),
            activity_id=payload.get("activityId"),
            service_url=payload.get("serviceUrl"),
        )

    async def get_conversation_member(
        self, conversation_id: str, member_id: str, **_: Any
    ) -> ChannelAccount:
        url = f"{self._base}/{_segment(conversation_id)}/members/{_segment(member_id)}"
        return ChannelAccount.deserialize(await self._http.call("GET", url))

    async def get_conversation_members(
        self, conversation_id: str, **_: Any
    ) -> list[ChannelAccount]:
        url = f"{self._base}/{_segment(conversation_id)}/members"
        return [ChannelAccount.deserialize(item) for item in await self._http.call("GET", url)]

    async def get_conversation_paged_members(
        self,
        conversation_id: str,
        page_size: int | None = None,
        continuation_token: str | None = None,
        **_: Any,
    ) -> PagedMembersResult:
        query = []
        if page_size is not None:
            query.append(f"pageSize={page_size}")
        if continuation_token:
            query.append(f"continuationToken={quote(continuation_token, safe='')}")
        url = f"{self._base}/{_segment(conversation_id)}/pagedmembers"
        if query:
            url += "?" + "&".join(query)
        return PagedMembersResult.deserialize(await self._http.call("GET", url))

    get_teams_conversation_paged_members = get_conversation_paged_members


class PooledTeams:
    """The ``TeamsOperations`` call the bot makes: a team's details (its Azure AD group)."""

    def __init__(self, http: ConnectorHttp, service_url: str) -> None:
        self._http = http
        self._base = service_url.rstrip("/") + "/v3/teams"

    async def get_team_details(self, team_id: str, **_: Any) -> TeamDetails:
        payload = await self._http.call("GET", f"{self._base}/{_segment(team_id)}")
        return TeamDetails.deserialize(payload)


class PooledConnectorClient:
    """Stands where the SDK puts its ``ConnectorClient`` in the turn state."""

    def __init__(self, http: ConnectorHttp, service_url: str) -> None:
        self.base_url = service_url
        self.conversations = PooledConversations(http, service_url)
        self.teams = PooledTeams(http, service_url)

    async def close(self) -> None:
        """The session is the application's, closed at shutdown, not per turn."""
