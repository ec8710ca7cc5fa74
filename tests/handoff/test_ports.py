"""What the domain asks of the outside world: the SQL store implements each port it stands
for, method by method; the messages that cross a port refuse what the other side could not
use; and the port's words (conversation kinds, outbox states) are those the other side says."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from handoff.errors import DomainError
from handoff.ports import (
    AlreadyHandled,
    AuditLog,
    ConversationAddress,
    ConversationKind,
    ConversationStore,
    DuplicateOpenHandoff,
    EscalationStore,
    GroupChatStore,
    HandledKeys,
    HandoffRepository,
    KeysClaimed,
    Outbox,
    OutboxMessage,
    OutboxState,
    SettingsStore,
    SystemClock,
    UserSettingsStore,
)
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock
from harness.activities import activities_dir
from harness.handoff_flow import CASE

STORE_PORTS = [
    HandoffRepository,
    GroupChatStore,
    EscalationStore,
    HandledKeys,
    UserSettingsStore,
    SettingsStore,
    AuditLog,
    ConversationStore,
    Outbox,
]


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite:///{tmp_path / 'handoff.db'}", clock)
    yield opened
    await opened.close()


def _methods(port: type) -> dict[str, Callable[..., Any]]:
    return {
        name: member
        for name, member in vars(port).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


def _shape(function: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("port", STORE_PORTS, ids=lambda port: port.__name__)
def test_the_sql_store_implements_the_port_method_by_method(port: type) -> None:
    # mypy checks the types where the store is passed as a port; this checks what it cannot
    # see from a call site: every method there, async as the port's, with its parameter
    # names, kinds and defaults (a caller passing `claim=` must reach `claim`).
    methods = _methods(port)
    assert methods, f"{port.__name__} declares no methods"
    for name, declared in methods.items():
        implemented = getattr(SqlStore, name, None)
        assert implemented is not None, f"SqlStore lacks {port.__name__}.{name}"
        assert inspect.iscoroutinefunction(implemented) == inspect.iscoroutinefunction(declared)
        assert _shape(implemented) == _shape(declared), f"{port.__name__}.{name}"


def test_the_system_clock_tells_aware_utc_time() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_an_outbox_message_keeps_its_time_in_utc_and_refuses_a_naive_one() -> None:
    local = datetime(2026, 11, 24, 11, 0).astimezone()
    message = OutboxMessage(kind="notify", payload={}, dedupe_key="k", not_before=local)
    assert message.not_before == local
    assert message.not_before.tzinfo is UTC
    assert message.lane is None
    with pytest.raises(ValidationError, match="timestamps must carry a time zone"):
        OutboxMessage(
            kind="notify", payload={}, dedupe_key="k", not_before=datetime(2026, 11, 24, 11, 0)
        )


@pytest.mark.parametrize("field", ["conversation_id", "service_url"])
def test_an_address_the_bot_could_not_speak_to_again_is_refused(field: str) -> None:
    address: dict[str, Any] = {
        "conversation_id": "a:1",
        "kind": ConversationKind.PERSONAL,
        "service_url": "https://smba.example.invalid/",
        "reference": {},
        "updated_at": datetime(2026, 11, 24, tzinfo=UTC),
    }
    assert ConversationAddress(**address).conversation_id == "a:1"
    with pytest.raises(ValidationError) as error:
        ConversationAddress(**{**address, field: ""})
    [problem] = error.value.errors()
    assert problem["loc"] == (field,)


def test_the_conversation_kinds_are_the_conversation_types_teams_sends() -> None:
    said = {
        json.loads(path.read_text(encoding="utf-8"))["conversation"]["conversationType"]
        for path in activities_dir().glob("*.json")
    }
    assert said, "no recorded Teams activity found"
    assert said <= {kind.value for kind in ConversationKind}


def test_the_ports_refusals_are_domain_errors_with_their_reason() -> None:
    for refusal in (DuplicateOpenHandoff, AlreadyHandled):
        error = refusal(f"Case {CASE}: already handled")
        assert isinstance(error, DomainError)
        assert str(error) == f"Case {CASE}: already handled"


def test_a_claim_says_by_default_that_it_took_every_key_fresh() -> None:
    claimed = KeysClaimed()
    assert (claimed.repeated, claimed.in_progress, claimed.taken_over) == (None, False, frozenset())
    with pytest.raises(ValidationError):
        KeysClaimed(repeted="typo")  # type: ignore[call-arg]


async def test_the_outbox_reports_its_items_in_the_ports_states(
    store: SqlStore, clock: FakeClock
) -> None:
    for key in ("done", "dead", "pending"):
        assert await store.enqueue("notify", {"text": key}, key, clock.now())
    assert not await store.enqueue("notify", {}, "done", clock.now()), "a repeated key"
    items = {item.dedupe_key: item for item in await store.claim(clock.now(), 10, timedelta(1))}
    await store.complete(items["done"].id)
    await store.give_up(items["dead"].id, "refused")
    counts = await store.outbox_counts()
    assert {OutboxState(state): n for state, n in counts.items() if n} == {
        OutboxState.DONE: 1,
        OutboxState.DEAD: 1,
        OutboxState.PENDING: 1,
    }
    states = await store.outbox_states(["done", "dead", "pending", "never"])
    assert states == {
        "done": OutboxState.DONE,
        "dead": OutboxState.DEAD,
        "pending": OutboxState.PENDING,
    }
    [dead] = await store.dead_letters()
    assert (dead.state, dead.last_error, dead.sent_steps) == (OutboxState.DEAD, "refused", ())
