"""The few Microsoft Graph v1.0 calls behind 24x7 group chats, with Graph's retry etiquette.

The bot cannot create a group chat itself: Graph creates it (``POST /chats``, application
permission ``Chat.Create``) and installs the bot in it (``POST /chats/{id}/installedApps``,
``TeamsAppInstallation.ReadWriteSelfForChat.All``); the bot then hears the install event and
posts through the Bot Connector. Making the whole sequence idempotent across crashes (store
the chat id at once, look it up before creating) is the caller's job; this client only makes
each call polite and its failures explicit.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

from .errors import GraphError, GraphPermissionError, GraphTransientError

__all__ = [
    "CHANNEL_MESSAGE_RSC",
    "CHAT_CREATE_PERMISSION",
    "CHAT_MESSAGE_RSC",
    "CHAT_READ_PERMISSIONS",
    "GROUP_MEMBER_PERMISSIONS",
    "INSTALL_APP_PERMISSION",
    "MESSAGES_PAGE",
    "GraphClient",
    "TokenSource",
]

_log = logging.getLogger(__name__)

CHAT_CREATE_PERMISSION = "Chat.Create"
INSTALL_APP_PERMISSION = "TeamsAppInstallation.ReadWriteSelfForChat.All"
CHAT_READ_PERMISSIONS = ("Chat.ReadBasic.All", "Chat.Read.All")
USER_READ_PERMISSIONS = ("User.Read.All",)
APP_CHAT_PERMISSIONS = ("TeamsAppInstallation.ReadForUser.All",)
CHANNEL_MESSAGE_PERMISSIONS = ("ChannelMessage.Read.All",)
CHAT_MESSAGE_PERMISSIONS = ("Chat.Read.All",)
# What the app package asks instead (resource-specific consent), for the one team or chat it
# is installed in; the tenant-wide ones above serve where it was not granted.
CHANNEL_MESSAGE_RSC = "ChannelMessage.Read.Group"
CHAT_MESSAGE_RSC = "ChatMessage.Read.Chat"
# Reading another user's (transitive) groups, least privileged first, as Graph documents it.
GROUP_MEMBER_PERMISSIONS = ("User.Read.All and GroupMember.Read.All", "Directory.Read.All")

# checkMemberGroups takes at most this many group ids per request.
MEMBER_GROUPS_PER_CHECK = 20

# Graph's largest page of chat and channel messages.
MESSAGES_PAGE = 50

# @odata.bind values name Graph resources, not the server we talk to: they stay on the public
# Graph root even when base_url points at a local fake.
_BIND_ROOT = "https://graph.microsoft.com/v1.0"

# Throttled/unavailable answers Graph expects clients to retry. 500 is not among them: a
# POST /chats that failed with 500 may still have created the chat, so repeating it blindly
# could make a second one; the caller's look-up-before-create decides instead.
_RETRYABLE = frozenset({429, 502, 503, 504})

# Exponential backoff when Graph gives no Retry-After: 1 s, 2 s, 4 s ... capped at 32 s.
_BACKOFF_BASE = 1.0
_BACKOFF_CAP = 32.0


class TokenSource(Protocol):
    """What the client needs from :class:`~graph.token_provider.TokenProvider`."""

    async def token(self, *, force_refresh: bool = False) -> str: ...


Sleep = Callable[[float], Awaitable[object]]


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _created(message: Any) -> datetime | None:
    """A chat message's createdDateTime, aware UTC; None when missing or malformed."""
    raw = message.get("createdDateTime") if isinstance(message, dict) else None
    if not isinstance(raw, str):
        return None
    try:
        created = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def _backoff(attempt: int) -> float:
    """Delay before retry number ``attempt`` (1-based), with jitter.

    "Equal jitter": half the exponential delay is fixed, half random, so many bots throttled
    at once spread out without any of them retrying immediately.
    """
    delay = min(_BACKOFF_CAP, _BACKOFF_BASE * 2.0 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


def _error_parts(status: int, body: Any) -> tuple[str, str]:
    """Graph's ``{"error": {"code", "message"}}``, tolerating bodies that are not."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or f"Http{status}")
        message = str(error.get("message") or "")
        return code, message
    text = body if isinstance(body, str) else ""
    return f"Http{status}", text[:500]


class GraphClient:
    """Calls Graph at ``base_url`` (``https://graph.microsoft.com/v1.0`` in production).

    429 and 502/503/504 are retried up to ``max_attempts`` tries in all, waiting what
    ``Retry-After`` says or backing off exponentially with jitter; a 401 gets one fresh token
    and one more try. ``sleep`` is injectable so tests need not wait. The session is the
    caller's: this client never closes it.
    """

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        session: aiohttp.ClientSession,
        *,
        max_attempts: int = 5,
        sleep: Sleep = asyncio.sleep,
        on_answer: Callable[[int | None], None] = lambda _status: None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._session = session
        self._max_attempts = max_attempts
        self._sleep = sleep
        # Told each request's status (None: no answer), retries included; every request goes
        # through _send, so /metrics counts them there.
        self._on_answer = on_answer

    # -- the calls ------------------------------------------------------------------------

    async def create_group_chat(self, topic: str, member_aad_ids: Sequence[str]) -> str:
        """Create a group chat with these members (all owners); returns the new chat's id.

        Not idempotent: Graph makes a new chat on every successful POST. Store the id as
        soon as this returns.
        """
        members = list(dict.fromkeys(member_aad_ids))  # Graph rejects a member listed twice
        if not members:
            raise ValueError("a group chat needs at least one member")
        body = {
            "chatType": "group",
            "topic": topic,
            "members": [
                {
                    "@odata.type": "#microsoft.graph.aadUserConversationMember",
                    "roles": ["owner"],
                    "user@odata.bind": f"{_BIND_ROOT}/users('{aad_id}')",
                }
                for aad_id in members
            ],
        }
        _, chat = await self._request("POST", "/chats", body, permissions=(CHAT_CREATE_PERMISSION,))
        chat_id = chat.get("id") if isinstance(chat, dict) else None
        if not isinstance(chat_id, str) or not chat_id:
            raise GraphError(201, "MissingChatId", "Graph created a chat but returned no id.")
        _log.info("created a group chat", extra={"chat_id": chat_id, "members": len(members)})
        return chat_id

    async def install_app(self, chat_id: str, teams_app_id: str) -> None:
        """Install the Teams app (catalog id) in the chat; already installed is success."""
        body = {"teamsApp@odata.bind": f"{_BIND_ROOT}/appCatalogs/teamsApps/{teams_app_id}"}
        status, _ = await self._request(
            "POST",
            f"/chats/{quote(chat_id, safe='')}/installedApps",
            body,
            permissions=(INSTALL_APP_PERMISSION,),
            accept=frozenset({409}),
        )
        if status == 409:
            # A retry after a lost response, or a restart after a crash: the goal is met.
            _log.info(
                "the app was already installed in the chat",
                extra={"teams_app_id": teams_app_id, "chat_id": chat_id},
            )
        else:
            _log.info(
                "installed the app in the chat",
                extra={"teams_app_id": teams_app_id, "chat_id": chat_id},
            )

    async def get_chat(self, chat_id: str) -> dict[str, Any]:
        """The chat resource (id, topic, chatType, webUrl, ...)."""
        _, chat = await self._request(
            "GET", f"/chats/{quote(chat_id, safe='')}", None, permissions=CHAT_READ_PERMISSIONS
        )
        if not isinstance(chat, dict):
            raise GraphError(200, "UnexpectedBody", "Graph returned no chat object.")
        return chat

    async def find_user(self, id_or_upn: str) -> tuple[str, str] | None:
        """(AAD object id, display name) of a user named by id or e-mail/UPN; None if Graph
        knows no such user."""
        user = await self._user(id_or_upn)
        if user is None:
            return None
        return str(user["id"]), str(user.get("displayName") or id_or_upn)

    async def user_email(self, id_or_upn: str) -> str | None:
        """A user's e-mail address (their mail, else their sign-in name), to show people who
        someone is; None if Graph knows no such user or gives no address."""
        user = await self._user(id_or_upn)
        if user is None:
            return None
        address = user.get("mail") or user.get("userPrincipalName")
        return str(address) if address else None

    async def _user(self, id_or_upn: str) -> dict[str, Any] | None:
        try:
            _, user = await self._request(
                "GET",
                f"/users/{quote(id_or_upn, safe='@')}",
                None,
                permissions=USER_READ_PERMISSIONS,
            )
        except GraphError as error:
            if error.status == 404:
                return None
            raise
        if not isinstance(user, dict) or not user.get("id"):
            raise GraphError(200, "UnexpectedBody", "Graph returned no user object.")
        return user

    async def member_groups(self, user_aad_id: str, group_ids: Sequence[str]) -> set[str]:
        """Which of ``group_ids`` the user is a member of, directly or through nested groups
        (``checkMemberGroups``), lower-cased; a user Graph does not know is in none."""
        wanted = list(dict.fromkeys(group.lower() for group in group_ids))
        path = f"/users/{quote(user_aad_id, safe='')}/checkMemberGroups"
        found: set[str] = set()
        for start in range(0, len(wanted), MEMBER_GROUPS_PER_CHECK):
            body = {"groupIds": wanted[start : start + MEMBER_GROUPS_PER_CHECK]}
            try:
                _, answer = await self._request(
                    "POST", path, body, permissions=GROUP_MEMBER_PERMISSIONS
                )
            except GraphError as error:
                if error.status == 404:
                    _log.warning(
                        "Graph does not know the user whose groups were asked",
                        extra={"user": user_aad_id, "code": error.code},
                    )
                    return found & set(wanted)  # what earlier batches found stands
                raise
            value = answer.get("value") if isinstance(answer, dict) else None
            if not isinstance(value, list):
                raise GraphError(200, "UnexpectedBody", "Graph returned no list of group ids.")
            found.update(str(group).lower() for group in value)
        return found & set(wanted)

    async def app_chat_with(self, user_aad_id: str, teams_app_id: str) -> str | None:
        """The id of the personal chat between a user and the Teams app (catalog id), or
        None when the user has not installed the app."""
        user = quote(user_aad_id, safe="")
        query = f"$expand=teamsApp&$filter=teamsApp/id eq '{teams_app_id}'"
        _, listing = await self._request(
            "GET",
            f"/users/{user}/teamwork/installedApps?{query}",
            None,
            permissions=APP_CHAT_PERMISSIONS,
        )
        installs = listing.get("value") if isinstance(listing, dict) else None
        if not isinstance(installs, list) or not installs:
            return None
        if not isinstance(installs[0], dict) or not installs[0].get("id"):
            raise GraphError(200, "UnexpectedBody", "Graph listed an installation without an id.")
        installation = quote(str(installs[0]["id"]), safe="")
        _, chat = await self._request(
            "GET",
            f"/users/{user}/teamwork/installedApps/{installation}/chat",
            None,
            permissions=APP_CHAT_PERMISSIONS,
        )
        chat_id = chat.get("id") if isinstance(chat, dict) else None
        return chat_id if isinstance(chat_id, str) and chat_id else None

    async def chat_messages_since(
        self, chat_id: str, since: datetime, *, group_chat: bool = True
    ) -> list[dict[str, Any]]:
        """The chat's messages created at or after ``since``, newest first. Resource-specific
        consent serves a group chat the app is installed in; a person's one-to-one chat with
        the bot needs the tenant-wide permission."""
        path = (
            f"/chats/{quote(chat_id, safe='')}/messages"
            f"?$top={MESSAGES_PAGE}&$orderby=createdDateTime desc"
        )
        rsc = CHAT_MESSAGE_RSC if group_chat else ""
        return await self._messages_since(
            path, since, CHAT_MESSAGE_PERMISSIONS, rsc, newest_first=True
        )

    async def channel_messages_since(
        self, team_group_id: str, channel_id: str, since: datetime
    ) -> list[dict[str, Any]]:
        """The channel's root messages (new threads) created at or after ``since``. Listing a
        channel's messages has no order nor date filter; its delta query filters on the last
        change, which comes at or after the creation."""
        stamp = since.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        path = (
            f"/teams/{quote(team_group_id, safe='')}/channels/{quote(channel_id, safe='')}"
            f"/messages/delta?$top={MESSAGES_PAGE}&$filter=lastModifiedDateTime gt {stamp}"
        )
        return await self._messages_since(
            path, since, CHANNEL_MESSAGE_PERMISSIONS, CHANNEL_MESSAGE_RSC, max_pages=10
        )

    async def _messages_since(
        self,
        path: str,
        since: datetime,
        permissions: tuple[str, ...],
        resource_specific: str,
        *,
        newest_first: bool = False,
        max_pages: int = 4,
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for _ in range(max_pages):
            _, page = await self._request(
                "GET", path, None, permissions=permissions, resource_specific=resource_specific
            )
            messages = page.get("value") if isinstance(page, dict) else None
            if not isinstance(messages, list):
                raise GraphError(200, "UnexpectedBody", "Graph returned no list of messages.")
            older = False
            for message in messages:
                created = _created(message)
                if created is None or created < since:
                    older = True
                    continue
                found.append(message)
            link = page.get("@odata.nextLink")
            # Newest first, a page that reaches back before `since` is the last one needed.
            last = (older and newest_first) or not isinstance(link, str)
            if last or not str(link).startswith(self._base_url):
                return found
            path = link[len(self._base_url) :]
        return found

    # -- plumbing -------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        *,
        permissions: tuple[str, ...],
        resource_specific: str = "",
        accept: frozenset[int] = frozenset(),
    ) -> tuple[int, Any]:
        """Send with retries; returns (status, parsed JSON or None) for 2xx and ``accept``."""
        url = self._base_url + path
        refreshed = False  # at most one fresh token per call
        force_refresh = False
        throttled = 0  # answers that were 429/5xx so far; bounded by max_attempts
        while True:
            token = await self._tokens.token(force_refresh=force_refresh)
            force_refresh = False
            status, retry_after, request_id, payload = await self._send(method, url, body, token)
            if 200 <= status < 300 or status in accept:
                return status, payload
            code, message = _error_parts(status, payload)
            if status == 401 and not refreshed:
                # The cached token may have been revoked or rotated early; one fresh token
                # is worth a try, more would just hammer the token endpoint.
                _log.warning(
                    "Graph %s %s answered 401 (%s); refreshing the token", method, path, code
                )
                refreshed = force_refresh = True
                continue
            if status == 403:
                raise GraphPermissionError(
                    status,
                    code,
                    message,
                    permissions=permissions,
                    resource_specific=resource_specific,
                    request_id=request_id,
                )
            if status in _RETRYABLE:
                throttled += 1
                if throttled >= self._max_attempts:
                    raise GraphTransientError(status, code, message, request_id=request_id)
                delay = retry_after if retry_after is not None else _backoff(throttled)
                _log.warning(
                    "Graph %s %s answered %d (%s); retry %d/%d in %.1f s",
                    method,
                    path,
                    status,
                    code,
                    throttled,
                    self._max_attempts - 1,
                    delay,
                )
                await self._sleep(delay)
                continue
            raise GraphError(status, code, message, request_id=request_id)

    async def _send(
        self, method: str, url: str, body: dict[str, Any] | None, token: str
    ) -> tuple[int, float | None, str | None, Any]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        answered = False
        try:
            async with self._session.request(method, url, json=body, headers=headers) as response:
                answered = True
                self._on_answer(response.status)
                raw = await response.read()
                payload: Any = None
                if raw:
                    try:
                        payload = await response.json(content_type=None)
                    except ValueError:
                        payload = raw.decode("utf-8", errors="replace")
                return (
                    response.status,
                    _retry_after(response.headers.get("Retry-After")),
                    response.headers.get("request-id"),
                    payload,
                )
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            if not answered:
                self._on_answer(None)
            # Not retried here: whether a POST reached Graph is unknown, and repeating a
            # create could make a second chat. The caller's outbox retries with a look-up.
            raise GraphTransientError(0, type(exc).__name__, str(exc) or repr(exc)) from exc
