"""The turn's middleware (teams/middleware.py) on botbuilder's TestAdapter over a real SQLite
file: the tenant guard, delivery de-duplication, conversation memory, the turn-error apology
and reply pacing, each around a turn that records what reached it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import ConversationState, Middleware, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationReference,
)

from app import build_bot
from application import messages
from config.process import load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from handoff import effects
from handoff.long_running import ChatMember, GroupChat, GroupChatState
from handoff.ports import OutboxMessage
from outbox.fault_log import FaultLog
from storage.bot_state import SqlBotStorage
from storage.errors import StorageUnavailable
from storage.sql_store import SqlStore, open_store
from teams.activity_codec import read_activity
from teams.deliveries import Deliveries, DeliveryInProgress
from teams.middleware import (
    MAX_REPLY_WAIT_SECONDS,
    ConversationMemory,
    DeliveredOnce,
    DialogStateAhead,
    ReplyPacing,
    TenantGuard,
    TurnErrors,
)
from teams.pacing import ConversationPacer

from conftest import FakeClock
from harness.activities import card_action_invoke, personal_message
from harness.chat import template
from harness.ids import DEFAULT_TENANT_ID, DEFAULT_USER

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SERVICE_URL = "https://smba.example/emea/"
OTHER_TENANT = "11111111-2222-4333-8444-555555555555"
Logic = Callable[[TurnContext], Awaitable[None]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", clock)
    yield opened
    await opened.close()


class Turns:
    """What reached the turn's logic, and what it answers; with a store, each turn also
    leaves an outbox item, as a handoff request does."""

    def __init__(self, store: SqlStore | None = None) -> None:
        self.seen: list[Activity] = []
        self.fail_with: list[BaseException] = []
        self._store = store

    async def __call__(self, context: TurnContext) -> None:
        self.seen.append(context.activity)
        if self.fail_with:
            raise self.fail_with.pop(0)
        if self._store is not None:
            await self._store.enqueue_message(
                OutboxMessage(
                    kind="post",
                    payload={},
                    dedupe_key=f"post:{context.activity.id}",
                    not_before=NOW,
                )
            )
        if context.activity.type == ActivityTypes.message:
            await context.send_activity(f"got {context.activity.text}")


def adapter(turns: Logic, *middleware: Middleware) -> TestAdapter:
    made = TestAdapter(turns, template())
    for step in middleware:
        made.use(step)
    return made


def teams_message(text: str, tenant_id: str = DEFAULT_TENANT_ID, **more: Any) -> Activity:
    return read_activity(personal_message(text, SERVICE_URL, tenant_id=tenant_id, **more))


def sent(made: TestAdapter) -> list[Activity]:
    return list(made.activity_buffer)


def reference() -> ConversationReference:
    return ConversationReference(
        channel_id="msteams",
        service_url=SERVICE_URL,
        conversation=ConversationAccount(id="a:29:ana"),
        bot=ChannelAccount(id="28:bot"),
    )


# -- TenantGuard ----------------------------------------------------------------------------


async def test_a_message_from_another_tenant_is_told_so_and_goes_no_further() -> None:
    turns = Turns()
    made = adapter(turns, TenantGuard(DEFAULT_TENANT_ID))
    await made.receive_activity(teams_message("help", tenant_id=OTHER_TENANT))
    assert turns.seen == []
    assert [a.text for a in sent(made)] == [messages.other_tenant()]


async def test_an_invoke_from_another_tenant_is_answered_on_the_card() -> None:
    turns = Turns()
    made = adapter(turns, TenantGuard(DEFAULT_TENANT_ID))
    invoke = card_action_invoke("accept", {"handoff_id": "h1"}, SERVICE_URL, "1:1")
    invoke["channelData"]["tenant"]["id"] = OTHER_TENANT
    invoke["conversation"]["tenantId"] = OTHER_TENANT
    await made.receive_activity(read_activity(invoke))
    assert turns.seen == []
    [answer] = sent(made)
    assert answer.type == ActivityTypes.invoke_response and answer.value.status == 200
    assert answer.value.body["value"] == messages.other_tenant()


async def test_the_own_tenant_in_any_letter_case_passes() -> None:
    turns = Turns()
    made = adapter(turns, TenantGuard(DEFAULT_TENANT_ID.upper()))
    await made.receive_activity(teams_message("help"))
    assert [a.text for a in sent(made)] == ["got help"]


async def test_the_outboxs_own_turns_carry_no_tenant_and_pass() -> None:
    turns = Turns()
    made = adapter(turns, TenantGuard(DEFAULT_TENANT_ID))
    await made.continue_conversation(reference(), turns, "")
    [proactive] = turns.seen
    assert proactive.type == ActivityTypes.event


# -- DeliveredOnce --------------------------------------------------------------------------


def delivered_once(store: SqlStore, clock: FakeClock, woken: list[int]) -> DeliveredOnce:
    deliveries = Deliveries(store, clock, timedelta(seconds=15))
    storage = SqlBotStorage(store.database)
    dialog_state = DialogStateAhead(ConversationState(storage), storage, "DialogState")
    return DeliveredOnce(deliveries, dialog_state, lambda: woken.append(1))


async def test_a_redelivered_message_is_handled_once(store: SqlStore, clock: FakeClock) -> None:
    turns, woken = Turns(store), list[int]()
    made = adapter(turns, delivered_once(store, clock, woken))
    activity = teams_message("mine", activity_id="1700000000001")
    await made.receive_activity(activity)
    await made.receive_activity(teams_message("mine", activity_id="1700000000001"))
    assert [a.text for a in sent(made)] == ["got mine"]
    assert len(woken) == 1


async def test_a_failed_turn_releases_its_claim_so_the_redelivery_runs(
    store: SqlStore, clock: FakeClock
) -> None:
    turns, woken = Turns(store), list[int]()
    turns.fail_with.append(RuntimeError("the database hiccupped"))
    made = adapter(turns, delivered_once(store, clock, woken))
    with pytest.raises(RuntimeError):
        await made.receive_activity(teams_message("mine", activity_id="1700000000002"))

    await made.receive_activity(teams_message("mine", activity_id="1700000000002"))

    assert [a.text for a in sent(made)] == ["got mine"]
    assert len(turns.seen) == 2 and len(woken) == 1


async def test_a_turn_that_leaves_the_outbox_nothing_does_not_wake_it(
    store: SqlStore, clock: FakeClock
) -> None:
    """Waking the worker costs it a look at the outbox: a round trip for nothing."""
    woken = list[int]()
    made = adapter(Turns(), delivered_once(store, clock, woken))
    await made.receive_activity(teams_message("help", activity_id="1700000000003"))
    assert [a.text for a in sent(made)] == ["got help"]
    assert woken == []


async def test_the_outboxs_own_turns_are_never_taken_for_repeats(
    store: SqlStore, clock: FakeClock
) -> None:
    turns = Turns()
    made = adapter(turns, delivered_once(store, clock, []))
    await made.continue_conversation(reference(), turns, "")
    await made.continue_conversation(reference(), turns, "")
    assert len(turns.seen) == 2


# -- ConversationMemory ---------------------------------------------------------------------


async def test_an_address_is_stored_once_and_again_when_it_changes(
    store: SqlStore, clock: FakeClock
) -> None:
    made = adapter(Turns(), ConversationMemory(store, clock))
    await made.receive_activity(teams_message("one"))
    first = await store.personal_conversation(DEFAULT_USER.id)
    assert first is not None and first.service_url == SERVICE_URL
    assert first.tenant_id == DEFAULT_TENANT_ID and first.updated_at == NOW
    assert "activityId" not in first.reference, "later posts start afresh"

    clock.advance(timedelta(minutes=5))
    await made.receive_activity(teams_message("two"))
    same = await store.personal_conversation(DEFAULT_USER.id)
    assert same is not None and same.updated_at == NOW, "unchanged: not written again"

    moved = personal_message("three", "https://smba.example/amer/")
    await made.receive_activity(read_activity(moved))
    changed = await store.personal_conversation(DEFAULT_USER.id)
    assert changed is not None
    assert changed.service_url == "https://smba.example/amer/"
    assert changed.updated_at == NOW + timedelta(minutes=5)


async def test_a_card_click_stores_no_address(store: SqlStore, clock: FakeClock) -> None:
    made = adapter(Turns(), ConversationMemory(store, clock))
    invoke = card_action_invoke("accept", {"handoff_id": "h1"}, SERVICE_URL, "1:1")
    await made.receive_activity(read_activity(invoke))
    assert await store.personal_conversation(DEFAULT_USER.id) is None


async def test_joining_a_cases_group_chat_queues_its_summary(
    store: SqlStore, clock: FakeClock
) -> None:
    chat_id = "19:case-chat@thread.v2"
    await store.plan_group_chat(
        GroupChat(
            case_number="2311230040001234",
            topic="Case 2311230040001234",
            members=(ChatMember(aad_object_id="aad-ana", name="Ana", region="EMEA"),),
        )
    )
    await store.update_group_chat("2311230040001234", GroupChatState.INSTALLED, chat_id=chat_id)
    pipeline = build_bot(
        store,
        load_process_config(DEFAULT_CONFIG_PATH),
        clock,
        delivery_abandoned_after=timedelta(seconds=15),
    )
    [memory] = [m for m in pipeline.middleware if isinstance(m, ConversationMemory)]
    made = adapter(Turns(), memory)
    joined = Activity(
        type=ActivityTypes.conversation_update,
        id="joined-1",
        members_added=[ChannelAccount(id="28:bot")],
        conversation=ConversationAccount(id=chat_id, conversation_type="groupChat", is_group=True),
        channel_data={"tenant": {"id": DEFAULT_TENANT_ID}},
    )

    await made.receive_activity(joined)

    address = await store.get_conversation(chat_id)
    assert address is not None and address.kind.value == "groupChat"
    due = await store.claim(clock.now(), 10, timedelta(seconds=30))
    assert [(i.kind, i.payload["case_number"]) for i in due] == [
        (effects.OutboxKind.POST_CHAT_SUMMARY, "2311230040001234")
    ]


# -- TurnErrors -----------------------------------------------------------------------------


def failing(error: Exception) -> tuple[TestAdapter, Turns]:
    turns = Turns()
    turns.fail_with.append(error)
    made = adapter(turns)
    made.on_turn_error = TurnErrors(FaultLog(FakeClock(NOW)))
    return made, turns


async def test_a_failed_turn_apologises_in_one_line() -> None:
    made, _ = failing(RuntimeError("a bug"))
    await made.receive_activity(teams_message("mine"))
    assert [a.text for a in sent(made)] == [messages.sorry()]


async def test_a_turn_failed_on_the_database_says_to_try_again_in_a_minute() -> None:
    made, _ = failing(StorageUnavailable("the database does not answer"))
    await made.receive_activity(teams_message("mine"))
    assert [a.text for a in sent(made)] == [messages.database_down()]


async def test_a_failed_click_is_apologised_for_on_the_card() -> None:
    made, _ = failing(RuntimeError("a bug"))
    invoke = card_action_invoke("accept", {"handoff_id": "h1"}, SERVICE_URL, "1:1")
    await made.receive_activity(read_activity(invoke))
    [answer] = sent(made)
    assert answer.type == ActivityTypes.invoke_response
    assert answer.value.body["value"] == messages.sorry()


async def test_a_delivery_in_progress_is_no_failure_and_is_passed_on() -> None:
    made, _ = failing(DeliveryInProgress(5.0))
    with pytest.raises(DeliveryInProgress):
        await made.receive_activity(teams_message("mine"))
    assert sent(made) == []


# -- ReplyPacing ----------------------------------------------------------------------------


class Monotonic:
    def __init__(self) -> None:
        self.at = 500.0

    def __call__(self) -> float:
        return self.at


class Replies:
    def __init__(self, count: int) -> None:
        self.count = count

    async def __call__(self, context: TurnContext) -> None:
        for number in range(self.count):
            await context.send_activity(f"reply {number}")


async def test_replies_take_places_on_the_conversations_pacer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pacer = ConversationPacer(limits=((2, 60.0),), clock=Monotonic())
    made = adapter(Replies(3), ReplyPacing(pacer))
    with caplog.at_level(logging.WARNING, logger="teams.middleware"):
        await made.receive_activity(teams_message("busy"))

    assert [a.text for a in sent(made)] == ["reply 0", "reply 1", "reply 2"]
    [over] = [r for r in caplog.records if "over the conversation's send limit" in r.message]
    assert over.wait > MAX_REPLY_WAIT_SECONDS  # type: ignore[attr-defined]
    conversation = teams_message("x").conversation.id
    assert pacer.delay(conversation) > 59
