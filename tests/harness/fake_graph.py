"""A local fake of the parts of Microsoft Graph v1.0 the bot uses for 24x7 group chats.

Create a chat, install the app in it, read it back, look users up, check a user's
(transitive) group memberships (``checkMemberGroups``, fed by :meth:`FakeGraph.add_group_member`);
and, once linked to the
fake Bot Connector (:meth:`FakeGraph.show_messages_of`), list the messages the bot sent to a
chat or channel, and find the personal chat between a user and the app. Requests must carry
``Authorization: Bearer <expected_token>``; faults (429 + Retry-After, 503, 403, ...) come
from the shared fault queue and use Graph's error shape.
"""

from __future__ import annotations

import re
import secrets
import ssl
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from .fake_connector import FakeConnector
from .graph_messages import AppChat, ConnectorMessages
from .ids import DEFAULT_TENANT_ID, TeamsUser
from .server import Answer, FakeServer, Incoming, RecordedRequest, Route

__all__ = ["DEFAULT_GRAPH_TOKEN", "FakeGraph", "RecordedRequest"]

DEFAULT_GRAPH_TOKEN = "fake-graph-access-token"
_GRAPH_ROOT = "https://graph.microsoft.com/v1.0"
_CHAT_TYPES = frozenset({"oneOnOne", "group", "meeting"})
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_MAX_GROUPS_PER_CHECK = 20  # Graph's documented limit for checkMemberGroups

# Codes Graph uses for these statuses, so injected faults read like real ones.
_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceNotAvailable",
    504: "GatewayTimeout",
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def graph_error(status: int, code: str | None = None, message: str | None = None) -> Any:
    """Graph's error body: ``{"error": {"code", "message", "innerError": {...}}}``."""
    return {
        "error": {
            "code": code or _CODES.get(status, "UnknownError"),
            "message": message or f"Injected fault: HTTP {status}.",
            "innerError": {
                "date": _now(),
                "request-id": str(uuid.uuid4()),
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }


class FakeGraph(FakeServer):
    """Graph on 127.0.0.1: ``graph.url + "v1.0/chats"`` etc.

    ``expected_token`` is the bearer token requests must carry; None accepts any non-empty
    bearer token.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        expected_token: str | None = DEFAULT_GRAPH_TOKEN,
        tenant_id: str = DEFAULT_TENANT_ID,
    ) -> None:
        super().__init__(ssl_context=ssl_context)
        self._expected_token = expected_token
        self.tenant_id = tenant_id
        self._chats: dict[str, dict[str, Any]] = {}
        self._installed_apps: dict[str, list[dict[str, Any]]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._messages: ConnectorMessages | None = None
        self._app_chats: dict[tuple[str, str], AppChat] = {}
        self._group_members: dict[str, set[str]] = {}

    @property
    def base_url(self) -> str:
        """What a Graph client should use in place of ``https://graph.microsoft.com/v1.0``."""
        return self.url + "v1.0"

    @property
    def expected_token(self) -> str | None:
        with self._lock:
            return self._expected_token

    @expected_token.setter
    def expected_token(self, token: str | None) -> None:
        with self._lock:
            self._expected_token = token

    def add_user(
        self,
        user_id: str,
        display_name: str,
        *,
        user_principal_name: str | None = None,
        mail: str | None = None,
        given_name: str | None = None,
        surname: str | None = None,
        job_title: str | None = None,
        preferred_language: str | None = "en-US",
    ) -> dict[str, Any]:
        """Register a user for ``GET /v1.0/users/{id or UPN}``; returns its JSON."""
        first, _, last = display_name.partition(" ")
        upn = user_principal_name or f"{display_name.lower().replace(' ', '.')}@contoso.example"
        user: dict[str, Any] = {
            "id": user_id,
            "displayName": display_name,
            "userPrincipalName": upn,
            "mail": mail or upn,
            "givenName": given_name if given_name is not None else first,
            "surname": surname if surname is not None else (last or None),
            "jobTitle": job_title,
            "preferredLanguage": preferred_language,
            "businessPhones": [],
            "mobilePhone": None,
            "officeLocation": None,
        }
        with self._lock:
            self._users[user_id] = user
        return dict(user)

    def add_teams_user(self, user: TeamsUser) -> dict[str, Any]:
        """:meth:`add_user` for a :class:`~harness.ids.TeamsUser` (Graph id = aadObjectId)."""
        return self.add_user(user.aad_object_id, user.name, user_principal_name=user.email)

    def add_group_member(self, group_id: str, member_id: str) -> None:
        """Put a user (by AAD object id) or another group (by id) in a group. Membership is
        transitive, as ``checkMemberGroups`` counts it: a member of a nested group is in
        the groups that contain it. A user added here is known to Graph."""
        with self._lock:
            self._group_members.setdefault(group_id.lower(), set()).add(member_id.lower())

    def _member_of(self, group_id: str, member_id: str, seen: frozenset[str] = frozenset()) -> bool:
        members = self._group_members.get(group_id, set())
        if member_id in members:
            return True
        nested = (m for m in members if m in self._group_members and m not in seen)
        return any(self._member_of(g, member_id, seen | {group_id}) for g in nested)

    @property
    def chats(self) -> dict[str, dict[str, Any]]:
        """Chats created so far, by id."""
        with self._lock:
            return {chat_id: dict(chat) for chat_id, chat in self._chats.items()}

    def installed_apps(self, chat_id: str) -> list[str]:
        """Teams app ids installed in a chat, in order."""
        with self._lock:
            return [app["teamsAppId"] for app in self._installed_apps.get(chat_id, [])]

    def show_messages_of(self, connector: FakeConnector) -> None:
        """From now on chats' and channels' messages are what the bot sent through
        ``connector`` (as in Teams, where both APIs see the same conversations)."""
        with self._lock:
            self._messages = ConnectorMessages(connector)

    def add_app_chat(self, user_aad_id: str, teams_app_id: str, conversation_id: str) -> AppChat:
        """The user has the app installed personally; ``conversation_id`` is the Bot
        Connector's id of that chat."""
        chat = AppChat(
            installation_id=secrets.token_urlsafe(24),
            chat_id=f"19:{user_aad_id}_{secrets.token_hex(8)}@unq.gbl.spaces",
            conversation_id=conversation_id,
        )
        with self._lock:
            self._app_chats[(user_aad_id.lower(), teams_app_id)] = chat
        return chat

    # -- hooks ---------------------------------------------------------------------------

    def _error_payload(self, status: int, code: str | None, message: str | None) -> Any:
        return graph_error(status, code, message)

    def _authorize(self, incoming: Incoming) -> Answer | None:
        scheme, _, token = incoming.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            message = "Access token is empty."
        elif self._expected_token is not None and token != self._expected_token:
            message = "Access token validation failure. Invalid audience."
        else:
            return None
        return Answer(
            401,
            graph_error(401, "InvalidAuthenticationToken", message),
            headers={"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'},
        )

    # -- routes (server thread, under the lock) -----------------------------------------

    def _routes(self) -> Iterable[Route]:
        chat = "/v1.0/chats/{chatId}"
        channel = "/v1.0/teams/{teamId}/channels/{channelId}"
        return [
            Route("POST", "/v1.0/chats", self._create_chat),
            Route("GET", chat, self._get_chat),
            Route("POST", chat + "/installedApps", self._install_app),
            Route("GET", chat + "/installedApps", self._list_installed_apps),
            Route("GET", "/v1.0/users/{userKey}", self._get_user),
            Route("POST", "/v1.0/users/{userKey}/checkMemberGroups", self._check_member_groups),
            Route("GET", "/v1.0/users/{userKey}/teamwork/installedApps", self._user_apps),
            Route(
                "GET",
                "/v1.0/users/{userKey}/teamwork/installedApps/{installationId}/chat",
                self._user_app_chat,
            ),
            Route("GET", chat + "/messages", self._chat_messages),
            Route("GET", channel + "/messages/delta", self._channel_messages_delta),
        ]

    def _create_chat(self, incoming: Incoming) -> Answer:
        body = incoming.body if isinstance(incoming.body, dict) else {}
        chat_type = body.get("chatType")
        members = body.get("members")
        if chat_type not in _CHAT_TYPES:
            return Answer(400, graph_error(400, message=f"Invalid chatType {chat_type!r}."))
        if not isinstance(members, list) or not members:
            return Answer(400, graph_error(400, message="A chat needs members."))
        if not all(isinstance(m, dict) and "user@odata.bind" in m for m in members):
            return Answer(400, graph_error(400, message="Each member needs user@odata.bind."))
        chat_id = f"19:{secrets.token_hex(16)}@thread.v2"
        now = _now()
        chat = {
            "@odata.context": f"{_GRAPH_ROOT}/$metadata#chats/$entity",
            "id": chat_id,
            "topic": body.get("topic"),
            "createdDateTime": now,
            "lastUpdatedDateTime": now,
            "chatType": chat_type,
            "webUrl": f"https://teams.microsoft.com/l/chat/{quote(chat_id, safe='')}/0"
            f"?tenantId={self.tenant_id}",
            "tenantId": self.tenant_id,
            "onlineMeetingInfo": None,
            "viewpoint": None,
            "members": members,
        }
        self._chats[chat_id] = chat
        self._installed_apps[chat_id] = []
        return Answer(201, chat, conversation_id=chat_id)

    def _chat_not_found(self, chat_id: str) -> Answer:
        return Answer(404, graph_error(404, "NotFound", f"Chat {chat_id} was not found."))

    def _get_chat(self, incoming: Incoming) -> Answer:
        chat_id = incoming.match["chatId"]
        chat = self._chats.get(chat_id)
        if chat is None:
            return self._chat_not_found(chat_id)
        return Answer(200, chat)

    def _install_app(self, incoming: Incoming) -> Answer:
        chat_id = incoming.match["chatId"]
        if chat_id not in self._chats:
            return self._chat_not_found(chat_id)
        body = incoming.body if isinstance(incoming.body, dict) else {}
        binding = body.get("teamsApp@odata.bind")
        if not isinstance(binding, str) or not binding:
            return Answer(400, graph_error(400, message="teamsApp@odata.bind is required."))
        app_id = binding.rstrip("/").rsplit("/", 1)[-1]
        installed = self._installed_apps[chat_id]
        if any(app["teamsAppId"] == app_id for app in installed):
            # Real Graph answers 409 to a repeated install; callers that retry must cope.
            return Answer(409, graph_error(409, "Conflict", "App is already installed."))
        installed.append({"id": secrets.token_hex(16), "teamsAppId": app_id, "binding": binding})
        return Answer(201)

    def _list_installed_apps(self, incoming: Incoming) -> Answer:
        chat_id = incoming.match["chatId"]
        if chat_id not in self._chats:
            return self._chat_not_found(chat_id)
        value = [
            {"id": app["id"], "teamsApp": {"id": app["teamsAppId"]}}
            for app in self._installed_apps[chat_id]
        ]
        return Answer(200, {"value": value})

    def _get_user(self, incoming: Incoming) -> Answer:
        key = incoming.match["userKey"].lower()
        for user in self._users.values():
            if key in (user["id"].lower(), user["userPrincipalName"].lower()):
                payload = {"@odata.context": f"{_GRAPH_ROOT}/$metadata#users/$entity", **user}
                return Answer(200, payload)
        message = (
            f"Resource '{incoming.match['userKey']}' does not exist or one of its queried "
            "reference-property objects are not present."
        )
        return Answer(404, graph_error(404, "Request_ResourceNotFound", message))

    def _check_member_groups(self, incoming: Incoming) -> Answer:
        key = incoming.match["userKey"].lower()
        known = any(key == user["id"].lower() for user in self._users.values()) or any(
            key in members for members in self._group_members.values()
        )
        if not known:
            message = (
                f"Resource '{incoming.match['userKey']}' does not exist or one of its queried "
                "reference-property objects are not present."
            )
            return Answer(404, graph_error(404, "Request_ResourceNotFound", message))
        body = incoming.body if isinstance(incoming.body, dict) else {}
        group_ids = body.get("groupIds")
        if not isinstance(group_ids, list) or not group_ids:
            return Answer(400, graph_error(400, "Request_BadRequest", "groupIds is required."))
        if len(group_ids) > _MAX_GROUPS_PER_CHECK:
            message = f"At most {_MAX_GROUPS_PER_CHECK} group ids may be checked at once."
            return Answer(400, graph_error(400, "Request_BadRequest", message))
        # One malformed id fails the whole request, as in Graph.
        for group_id in group_ids:
            if not isinstance(group_id, str) or not _GUID.fullmatch(group_id):
                message = f"Invalid GUID:{group_id}"
                return Answer(400, graph_error(400, "Request_BadRequest", message))
        value = [g for g in group_ids if self._member_of(g.lower(), key)]
        payload = {
            "@odata.context": f"{_GRAPH_ROOT}/$metadata#Collection(Edm.String)",
            "value": value,
        }
        return Answer(200, payload)

    # -- messages (outbox/landed_sends.py reads them) -----------------------------------------

    def _apps_of(self, user_key: str) -> list[tuple[str, AppChat]]:
        return [
            (app_id, chat)
            for (user, app_id), chat in self._app_chats.items()
            if user == user_key.lower()
        ]

    def _user_apps(self, incoming: Incoming) -> Answer:
        wanted = incoming.query.get("$filter", "")
        value = [
            {"id": chat.installation_id, "teamsApp": {"id": app_id}}
            for app_id, chat in self._apps_of(incoming.match["userKey"])
            if not wanted or f"teamsApp/id eq '{app_id}'" in wanted
        ]
        return Answer(200, {"value": value})

    def _user_app_chat(self, incoming: Incoming) -> Answer:
        for _, chat in self._apps_of(incoming.match["userKey"]):
            if chat.installation_id == incoming.match["installationId"]:
                return Answer(200, {"id": chat.chat_id, "chatType": "oneOnOne"})
        return Answer(404, graph_error(404, "NotFound", "No such app installation."))

    def _page(
        self, incoming: Incoming, messages: list[dict[str, Any]], *, delta: bool = False
    ) -> Answer:
        top = min(int(incoming.query.get("$top", "20")), 50)
        start = int(incoming.query.get("$skiptoken", "0"))
        payload: dict[str, Any] = {"value": messages[start : start + top]}
        path = f"{self.base_url}{incoming.path.removeprefix('/v1.0')}"
        kept = "".join(
            f"&{name}={value}" for name, value in incoming.query.items() if name != "$skiptoken"
        )
        if start + top < len(messages):
            payload["@odata.nextLink"] = f"{path}?$skiptoken={start + top}{kept}"
        elif delta:
            payload["@odata.deltaLink"] = f"{path}?$deltatoken={secrets.token_hex(8)}"
        return Answer(200, payload)

    def _chat_messages(self, incoming: Incoming) -> Answer:
        chat_id = incoming.match["chatId"]
        if self._messages is None:
            return self._chat_not_found(chat_id)
        personal = [c for c in self._app_chats.values() if c.chat_id == chat_id]
        conversation = personal[0].conversation_id if personal else chat_id
        return self._page(incoming, self._messages.chat(conversation, chat_id))

    def _channel_messages_delta(self, incoming: Incoming) -> Answer:
        """The delta query of a channel's root messages; of its filters, Graph takes only
        ``lastModifiedDateTime gt <time>``."""
        if self._messages is None:
            return Answer(404, graph_error(404, "NotFound", "No such channel."))
        messages = self._messages.channel(incoming.match["teamId"], incoming.match["channelId"])
        wanted = incoming.query.get("$filter", "")
        if wanted:
            field, _, rest = wanted.partition(" gt ")
            if field != "lastModifiedDateTime" or not rest:
                return Answer(400, graph_error(400, message=f"Unsupported filter {wanted!r}."))
            after = datetime.fromisoformat(rest.replace("Z", "+00:00"))
            messages = [
                m
                for m in messages
                if datetime.fromisoformat(m["lastModifiedDateTime"].replace("Z", "+00:00")) > after
            ]
        return self._page(incoming, messages, delta=True)
