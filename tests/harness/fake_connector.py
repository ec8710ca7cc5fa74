"""A local fake of the Bot Connector service, the ``serviceUrl`` a Teams activity names.

Point the activity's ``serviceUrl`` at :attr:`FakeConnector.url`; botbuilder's connector
client then sends replies, card updates, proactive messages and member look-ups here. Every
request is recorded in order; answers have the shapes the real service gives.
"""

from __future__ import annotations

import itertools
import random
import secrets
import ssl
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .ids import DEFAULT_TENANT_ID, TeamsUser, stable_guid
from .pseudo_locale import active, unmarked
from .server import Answer, FakeServer, Incoming, RecordedRequest, Route

__all__ = [
    "DEFAULT_TENANT_ID",
    "FakeConnector",
    "RecordedRequest",
    "base_conversation_id",
    "client_activity_id",
]

_ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
_THREAD_SEPARATOR = ";messageid="
# Methods of the requests that carry an activity the bot sends (POST) or updates (PUT).
_ACTIVITY_METHODS = frozenset({"POST", "PUT"})


def client_activity_id(activity: Any) -> str | None:
    """The stable id the bot's outbox stamps on a send (channelData.clientActivityId)."""
    data = activity.get("channelData") if isinstance(activity, dict) else None
    value = data.get("clientActivityId") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread id without its ``;messageid=...`` suffix (the channel's id)."""
    return conversation_id.split(_THREAD_SEPARATOR, 1)[0]


@dataclass(frozen=True)
class _Team:
    team_id: str
    name: str
    aad_group_id: str
    channels: tuple[tuple[str, str | None], ...]


class FakeConnector(FakeServer):
    """The Bot Connector REST API (``/v3/...``) on 127.0.0.1, over HTTP or, given a server
    ``ssl_context``, HTTPS.

    Activity ids it hands out are unique numeric strings (like Teams' message ids).
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        tenant_id: str = DEFAULT_TENANT_ID,
    ) -> None:
        # The bodies as sent, kept in the pseudo-localized run only (see _recorded_body).
        self._as_sent: list[Any] = []
        super().__init__(ssl_context=ssl_context)
        self.tenant_id = tenant_id
        self._next_id = itertools.count(int(time.time() * 1000))
        self._members: dict[str, tuple[dict[str, Any], str | None]] = {}
        self._teams: dict[str, _Team] = {}
        # Like the real service (which documents no de-duplication), every send accepted is
        # a new message people see, repeats included. `resent` only *measures* them: the
        # accepted sends that carry a channelData.clientActivityId accepted before, each a
        # message shown twice.
        self._accepted_client_ids: set[str] = set()
        self.resent: Counter[str] = Counter()
        self._chaos: tuple[float, tuple[int, ...], str | None, random.Random] | None = None
        self._rosters: dict[str, frozenset[str]] = {}

    # -- registries ----------------------------------------------------------------------

    def add_member(
        self,
        member_id: str,
        name: str,
        *,
        aad_object_id: str | None = None,
        email: str | None = None,
        user_principal_name: str | None = None,
        given_name: str | None = None,
        surname: str | None = None,
        tenant_id: str | None = None,
        user_role: str = "user",
        conversation_id: str | None = None,
    ) -> dict[str, Any]:
        """Register a member (a TeamsChannelAccount) and return its JSON.

        ``conversation_id`` limits where the member is listed by ``GET .../members``; look-ups
        of a single member by id, aadObjectId or UPN find it in any conversation.
        """
        first, _, last = name.partition(" ")
        address = email or f"{name.lower().replace(' ', '.')}@contoso.example"
        member = {
            "id": member_id,
            "name": name,
            "aadObjectId": aad_object_id or stable_guid("aad", member_id),
            "givenName": given_name if given_name is not None else first,
            "surname": surname if surname is not None else (last or None),
            "email": address,
            "userPrincipalName": user_principal_name or address,
            "tenantId": tenant_id or self.tenant_id,
            "userRole": user_role,
        }
        with self._lock:
            self._members[member_id] = (member, conversation_id)
        return dict(member)

    def add_teams_user(
        self, user: TeamsUser, *, conversation_id: str | None = None
    ) -> dict[str, Any]:
        """:meth:`add_member` for a :class:`~harness.ids.TeamsUser`."""
        return self.add_member(
            user.id,
            user.name,
            aad_object_id=user.aad_object_id,
            email=user.email,
            conversation_id=conversation_id,
        )

    def add_team(
        self,
        team_id: str,
        name: str,
        *,
        aad_group_id: str | None = None,
        channels: Sequence[tuple[str, str | None]] = (),
    ) -> None:
        """Register a team; ``channels`` are (id, name) beside the General channel, whose id
        is the team id and whose name the real service leaves out."""
        team = _Team(
            team_id=team_id,
            name=name,
            aad_group_id=aad_group_id or stable_guid("group", team_id),
            channels=((team_id, None), *((c, n) for c, n in channels if c != team_id)),
        )
        with self._lock:
            self._teams[team_id] = team

    # -- rosters ---------------------------------------------------------------------------

    def set_roster(self, conversation_id: str, users: Iterable[TeamsUser]) -> None:
        """Make ``conversation_id`` (a team, channel or chat) know exactly ``users``: looking
        up anyone else there answers 404 ``MemberNotFoundInConversation``, as Teams does.
        Conversations without a roster know everybody (see :meth:`add_member`)."""
        users = list(users)
        for user in users:
            self.add_teams_user(user)
        keys = {k.lower() for u in users for k in (u.id, u.aad_object_id, u.email)}
        with self._lock:
            self._rosters[conversation_id] = frozenset(keys)

    # -- faults ----------------------------------------------------------------------------

    def fail_randomly(
        self,
        rate: float,
        statuses: Sequence[int] = (429, 503),
        *,
        retry_after: str | None = "0",
        seed: int | None = None,
    ) -> None:
        """From now on answer a share ``rate`` of the sends and updates with one of
        ``statuses`` (a 429 with ``Retry-After``); ``rate`` 0 stops it."""
        if not 0 <= rate <= 1:
            raise ValueError(f"rate must be between 0 and 1, got {rate}")
        with self._lock:
            self._chaos = (rate, tuple(statuses), retry_after, random.Random(seed))
            if rate == 0:
                self._chaos = None

    def _chaos_fault(self) -> Answer | None:
        if self._chaos is None:
            return None
        rate, statuses, retry_after, rng = self._chaos
        if rng.random() >= rate:
            return None
        status = rng.choice(statuses)
        headers = {"Retry-After": retry_after} if status == 429 and retry_after else {}
        payload = self._error_payload(status, None, "Injected by fail_randomly")
        return Answer(status, payload, headers)

    # -- reading what was sent -----------------------------------------------------------

    def activity_records(self, conversation_id: str | None = None) -> list[RecordedRequest]:
        """Successful requests that carried an activity (sends, replies, updates, and
        create-conversation calls with an activity), optionally for one conversation.

        A channel id matches its threads too (``19:...@thread.tacv2;messageid=...``).
        """
        return [r for r in self.requests if self._is_activity(r, conversation_id)]

    def activities(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """The activity JSON the bot sent (POST) or updated (PUT), in order, repeats included
        (what people see); see
        :meth:`activity_records` for which requests count."""
        return [self._activity_body(r) for r in self.activity_records(conversation_id)]

    def marked_activities(self) -> list[dict[str, Any]]:
        """Every activity body as it was sent, with the pseudo-localized run's brackets (the
        records keep them without, as the tests compare them)."""
        return [body for body in self._as_sent if isinstance(body, dict)]

    def _recorded_body(self, body: Any) -> Any:
        if not active():
            return body
        self._as_sent.append(body.get("activity", body) if isinstance(body, dict) else body)
        return unmarked(body)

    def adaptive_cards(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """The Adaptive Card payloads among :meth:`activities`' attachments, in order."""
        cards: list[dict[str, Any]] = []
        for activity in self.activities(conversation_id):
            for attachment in activity.get("attachments") or []:
                if attachment.get("contentType") == _ADAPTIVE_CARD:
                    cards.append(attachment.get("content"))
        return cards

    async def wait_for_activities(
        self,
        count: int = 1,
        *,
        conversation_id: str | None = None,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 -- a bounded wait is this helper's contract
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` activities (matching ``predicate``) were sent; return them."""

        def wanted(record: RecordedRequest) -> bool:
            if not self._is_activity(record, conversation_id):
                return False
            return predicate is None or predicate(self._activity_body(record))

        where = f" to {conversation_id}" if conversation_id else ""
        records = await self.wait_for(
            wanted, timeout, count=count, description=f"activity sent{where}"
        )
        return [self._activity_body(r) for r in records]

    @staticmethod
    def _is_activity(record: RecordedRequest, conversation_id: str | None) -> bool:
        if record.method not in _ACTIVITY_METHODS or not 200 <= record.status < 300:
            return False
        if not isinstance(record.body, dict):
            return False
        if record.path.rstrip("/") == "/v3/conversations":
            if not isinstance(record.body.get("activity"), dict):
                return False
        elif "/activities" not in record.path:
            return False
        if conversation_id is None:
            return True
        recorded = record.conversation_id or ""
        return recorded == conversation_id or base_conversation_id(recorded) == conversation_id

    @staticmethod
    def _activity_body(record: RecordedRequest) -> dict[str, Any]:
        body: dict[str, Any] = record.body
        if record.path.rstrip("/") == "/v3/conversations":
            activity: dict[str, Any] = body["activity"]
            return activity
        return body

    # -- routes (server thread, under the lock) -----------------------------------------

    def _routes(self) -> Iterable[Route]:
        conversation = "/v3/conversations/{conversationId}"
        activity = conversation + "/activities/{activityId}"
        return [
            Route("POST", "/v3/conversations", self._create_conversation),
            Route("POST", conversation + "/activities", self._send),
            Route("POST", activity, self._send),
            Route("PUT", activity, self._update),
            Route("DELETE", activity, self._delete),
            Route("GET", conversation + "/members", self._list_members),
            Route("GET", conversation + "/pagedmembers", self._paged_members),
            Route("GET", conversation + "/members/{memberId}", self._get_member),
            Route("GET", "/v3/teams/{teamId}", self._team_details),
            Route("GET", "/v3/teams/{teamId}/conversations", self._team_channels),
        ]

    def _new_activity_id(self) -> str:
        return str(next(self._next_id))

    def _send(self, incoming: Incoming) -> Answer:
        fault = self._chaos_fault()
        if fault is not None:
            return fault
        client_id = client_activity_id(incoming.body)
        if client_id is not None:
            if client_id in self._accepted_client_ids:
                self.resent[client_id] += 1
            self._accepted_client_ids.add(client_id)
        activity_id = self._new_activity_id()
        return Answer(200, {"id": activity_id}, activity_id=activity_id)

    def _update(self, incoming: Incoming) -> Answer:
        fault = self._chaos_fault()
        if fault is not None:
            return fault
        return Answer(200, {"id": incoming.match["activityId"]})

    def _delete(self, incoming: Incoming) -> Answer:
        return Answer(200)

    def _create_conversation(self, incoming: Incoming) -> Answer:
        body = incoming.body if isinstance(incoming.body, dict) else {}
        activity = body.get("activity")
        activity_id = self._new_activity_id() if isinstance(activity, dict) else None
        channel_data = body.get("channelData")
        channel = channel_data.get("channel") if isinstance(channel_data, dict) else None
        channel_id = channel.get("id") if isinstance(channel, dict) else None
        if channel_id:
            # A new post in a channel: Teams names the thread after its first message.
            suffix = activity_id or self._new_activity_id()
            conversation_id = f"{channel_id}{_THREAD_SEPARATOR}{suffix}"
        elif body.get("isGroup"):
            conversation_id = f"19:{secrets.token_hex(16)}@thread.v2"
        else:
            conversation_id = "a:" + secrets.token_urlsafe(48)
        payload: dict[str, Any] = {"id": conversation_id}
        if activity_id is not None:
            payload["activityId"] = activity_id
        return Answer(201, payload, conversation_id=conversation_id, activity_id=activity_id)

    def _find_member(self, key: str) -> dict[str, Any] | None:
        wanted = key.lower()
        for member, _ in self._members.values():
            keys = (member["id"], member["aadObjectId"], member["userPrincipalName"])
            if wanted in (str(k).lower() for k in keys):
                return dict(member)
        return None

    def _default_member(self, member_id: str) -> dict[str, Any]:
        short = stable_guid("user", member_id)[:8]
        return {
            "id": member_id,
            "name": f"User {member_id}",
            "aadObjectId": stable_guid("aad", member_id),
            "givenName": "User",
            "surname": short,
            "email": f"user-{short}@contoso.example",
            "userPrincipalName": f"user-{short}@contoso.example",
            "tenantId": self.tenant_id,
            "userRole": "user",
        }

    def _conversation_members(self, conversation_id: str) -> list[dict[str, Any]]:
        base = base_conversation_id(conversation_id)
        return [
            dict(member)
            for member, where in self._members.values()
            if where is None or where in (conversation_id, base)
        ]

    def _get_member(self, incoming: Incoming) -> Answer:
        member_id = incoming.match["memberId"]
        roster = self._rosters.get(base_conversation_id(incoming.match["conversationId"]))
        if roster is not None and member_id.lower() not in roster:
            error = {"code": "MemberNotFoundInConversation", "message": "Member not found"}
            return Answer(404, {"error": error})
        member = self._find_member(member_id) or self._default_member(member_id)
        return Answer(200, member)

    def _list_members(self, incoming: Incoming) -> Answer:
        return Answer(200, self._conversation_members(incoming.match["conversationId"]))

    def _paged_members(self, incoming: Incoming) -> Answer:
        members = self._conversation_members(incoming.match["conversationId"])
        return Answer(200, {"members": members, "continuationToken": None})

    def _team(self, team_id: str) -> _Team:
        return self._teams.get(team_id) or _Team(
            team_id=team_id,
            name=f"Team {team_id}",
            aad_group_id=stable_guid("group", team_id),
            channels=((team_id, None),),
        )

    def _team_details(self, incoming: Incoming) -> Answer:
        team = self._team(incoming.match["teamId"])
        return Answer(
            200,
            {
                "id": team.team_id,
                "name": team.name,
                "aadGroupId": team.aad_group_id,
                "channelCount": len(team.channels),
                "memberCount": len(self._members),
                "type": "standard",
            },
        )

    def _team_channels(self, incoming: Incoming) -> Answer:
        team = self._team(incoming.match["teamId"])
        conversations = [
            {"id": channel_id} if name is None else {"id": channel_id, "name": name}
            for channel_id, name in team.channels
        ]
        return Answer(200, {"conversations": conversations})
