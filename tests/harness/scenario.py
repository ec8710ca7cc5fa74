"""Scenario tests of the use cases below HTTP: the real use cases over a real SQLite file, driven
with plain Requests, no server and no Teams. Team membership is a set of (team, person) pairs the
test writes, in place of the Bot Connector's roster."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from application.assembly import UseCases, build_use_cases
from application.request import Card, Conversation, Reply, Request
from config.process import ProcessConfig, load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from handoff.models import Person
from handoff.ports import ConversationAddress, ConversationKind
from storage.sql_store import SqlStore, open_store

from .ids import DEFAULT_CHANNEL_ID, DEFAULT_TEAM_ID

# Monday 2026-11-23 10:00 UTC: EMEA is on shift.
MONDAY_MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
BO = Person(id="29:bo", name="Bo Receiver", aad_object_id="aad-bo")
STRANGER = Person(id="29:stranger", name="Sam Stranger", aad_object_id="aad-stranger")
LEAD = Person(id="aad-lead", name="Lee Lead", aad_object_id="aad-lead")


class StillClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime = MONDAY_MORNING) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at


@dataclass
class Scenario:
    store: SqlStore
    use_cases: UseCases
    clock: StillClock
    process: ProcessConfig
    members: set[tuple[str, str]] = field(default_factory=set)
    woken: int = 0

    def join(self, person: Person, team_id: str = DEFAULT_TEAM_ID) -> None:
        self.members.add((team_id, person.id))

    def request(
        self,
        actor: Person,
        *args: str,
        kind: ConversationKind = ConversationKind.PERSONAL,
        conversation_id: str | None = None,
        team_id: str | None = None,
        client_zone: str | None = None,
        message_id: str | None = None,
    ) -> Request:
        """What the edge would make of `actor` typing the command's arguments `args`."""
        if kind is ConversationKind.CHANNEL:
            team_id = team_id or DEFAULT_TEAM_ID
            conversation_id = conversation_id or DEFAULT_CHANNEL_ID
        conversation_id = conversation_id or f"a:{actor.id}"
        members = self.members

        async def member_of(team: str) -> bool | None:
            return (team, actor.id) in members

        def address(at: datetime) -> ConversationAddress:
            return ConversationAddress(
                conversation_id=conversation_id,
                kind=kind,
                service_url="https://smba.example/emea/",
                team_id=team_id,
                channel_id=conversation_id if kind is ConversationKind.CHANNEL else None,
                reference={"conversation": {"id": conversation_id}},
                updated_at=at,
            )

        return Request(
            actor=actor,
            conversation=Conversation(
                id=conversation_id,
                kind=kind,
                team_id=team_id,
                names={"team_name": "Support", "channel_name": "Case Transfer"}
                if kind is ConversationKind.CHANNEL
                else {},
                address=address,
            ),
            args=args,
            client_zone=client_zone,
            member_of=member_of,
            message_id=message_id,
        )

    async def command(self, name: str, request: Request) -> Reply:
        use_case = self.use_cases.router.command(name)
        assert use_case is not None, f"no use case answers {name}"
        return await use_case(request)

    async def form(self, name: str, request: Request, value: dict[str, Any]) -> Reply:
        """A card form of the table sent back with these values."""
        use_case = self.use_cases.router.form(name)
        assert use_case is not None, f"no use case answers the form {name}"
        return await use_case(request, value)

    async def reachable(self, person: Person) -> None:
        """The person has installed the bot: their personal chat's address is stored, so
        messages (an approval card, a reminder) can reach them."""
        conversation_id = f"a:{person.id}"
        await self.store.save_conversation(
            ConversationAddress(
                conversation_id=conversation_id,
                kind=ConversationKind.PERSONAL,
                service_url="https://smba.example/emea/",
                user=person,
                reference={"conversation": {"id": conversation_id}},
                updated_at=self.clock.now(),
            )
        )

    async def queued(self, kind: str | None = None) -> list[Queued]:
        """What the use cases left in the outbox for later (of `kind`, if given), oldest first."""
        rows = await self.store.database.fetch_all(
            "SELECT kind, payload, dedupe_key, state, not_before, lane FROM outbox ORDER BY id"
        )
        found = [
            Queued(
                kind=str(row["kind"]),
                payload=json.loads(row["payload"]),
                dedupe_key=str(row["dedupe_key"]),
                state=str(row["state"]),
                not_before=row["not_before"],
                lane=row["lane"],
            )
            for row in rows
        ]
        return [item for item in found if kind is None or item.kind == kind]


@dataclass(frozen=True)
class Queued:
    """One outbox row, as the scenario tests look at it."""

    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    state: str
    not_before: datetime
    lane: str | None


def texts(reply: Reply) -> list[str]:
    return [said for said in reply if isinstance(said, str)]


def cards(reply: Reply) -> list[dict[str, Any]]:
    return [said.content for said in reply if isinstance(said, Card)]


def process_with(tmp_path: Path, **changes: Any) -> ProcessConfig:
    """The shipped process file with some top-level keys replaced (leads, case_transfer...)."""
    data = yaml.safe_load(Path(DEFAULT_CONFIG_PATH).read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_process_config(path)


async def open_scenario(
    tmp_path: Path,
    process: ProcessConfig | None = None,
    admin_ids: tuple[str, ...] = (),
    group_chats_missing: tuple[str, ...] = (),
) -> AsyncIterator[Scenario]:
    """For a fixture: ``yield from`` it (``async for s in open_scenario(...)``)."""
    clock = StillClock()
    # The shipped process, with its Case Transfer team named: membership of it is what the
    # scenario's `join` grants.
    process = process or process_with(
        tmp_path,
        case_transfer={
            "team_id": DEFAULT_TEAM_ID,
            "channel_id": DEFAULT_CHANNEL_ID,
            "allowed_teams": [],
            "allowed_groups": [],
        },
    )
    store = await open_store(f"sqlite:///{tmp_path / 'scenario.db'}", clock)
    scenario: Scenario | None = None

    def wake() -> None:
        assert scenario is not None
        scenario.woken += 1

    use_cases = build_use_cases(
        store,
        process,
        clock,
        wake,
        admin_ids=admin_ids,
        group_chats_missing=group_chats_missing,
    )
    scenario = Scenario(store, use_cases, clock, process)
    try:
        yield scenario
    finally:
        await store.close()


def card_words(content: Any) -> str:
    """What a reader of the card sees in words: its texts, facts, labels and button titles,
    one per line (not its data, ids or layout)."""
    seen: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "label", "value", "placeholder"):
                if isinstance(node.get(key), str):
                    seen.append(node[key])
            for key, value in node.items():
                if key not in ("data", "msteams", "fallback"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(content)
    return "\n".join(seen)


def buttons(content: Any) -> dict[str, dict[str, Any]]:
    """The card's Action.Execute buttons (those inside a button's own card too), by verb: the
    data each sends back when pressed."""
    found: dict[str, dict[str, Any]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute" and isinstance(node.get("verb"), str):
                found[node["verb"]] = dict(node.get("data") or {})
            for key, value in node.items():
                if key != "fallback":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(content)
    return found
