"""GroupChatHandlers (application/outbox_steps/group_chats.py): a long-running case's group chat
made step by step through Graph (the fake), then its summary and shift reminders posted through
the real OutboxSender to the fake Bot Connector; each step given its item from a real SQLite
file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from application.outbox_steps.group_chats import GroupChatHandlers
from config.process import load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from graph.client import GraphClient
from graph.errors import GraphTransientError
from handoff import effects
from handoff.long_running import ChatMember, GroupChat, GroupChatState, chat_rules
from handoff.models import Handoff, Person
from handoff.service import HandoffService
from handoff.state_machine import Accept
from handoff.user_settings import UserSettings
from outbox.failures import PermanentFailure

from conftest import FakeClock
from harness import records
from harness.fake_connector import FakeConnector
from harness.fake_graph import DEFAULT_GRAPH_TOKEN, FakeGraph
from harness.outbox_steps import StepWorld, all_text, step_world, translated

# Monday 2026-11-23 10:00 UTC: EMEA is on shift.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CASE = "2311230040005678"
ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
BO = Person(id="29:bo", name="Bo Receiver", aad_object_id="aad-bo")
TEAMS_APP_ID = "teams-catalog-app-id"
CHAT = GroupChat(
    case_number=CASE,
    topic=f"Case {CASE} · HDInsight · regional owners",
    members=(
        ChatMember(aad_object_id="aad-ana", name="Ana Lopez", region="EMEA"),
        ChatMember(aad_object_id="aad-bo", name="Bo Receiver", region="US"),
    ),
)
SCHEDULE = load_process_config(DEFAULT_CONFIG_PATH).schedule()


class GraphToken:
    """The identity platform's answer, as the fake Graph expects it."""

    async def token(self, *, force_refresh: bool = False) -> str:
        return DEFAULT_GRAPH_TOKEN


async def no_wait(_seconds: float) -> None:
    """Graph's Retry-After is not waited out in these tests."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def world(
    tmp_path: Path, clock: FakeClock, fake_connector: FakeConnector
) -> AsyncIterator[StepWorld]:
    async with step_world(tmp_path, clock, fake_connector) as opened:
        yield opened


@pytest.fixture
async def graph(fake_graph: FakeGraph) -> AsyncIterator[GraphClient]:
    async with aiohttp.ClientSession() as session:
        yield GraphClient(fake_graph.base_url, GraphToken(), session, max_attempts=3, sleep=no_wait)


def handlers(world: StepWorld, graph: GraphClient | None) -> GroupChatHandlers:
    return GroupChatHandlers(
        world.store, graph, world.sender, world.clock, teams_app_id=TEAMS_APP_ID, schedule=SCHEDULE
    )


async def accepted_case(world: StepWorld) -> Handoff:
    """Ana handed the case to Bo, who owns it now; its chat is planned."""
    service = HandoffService(world.store, world.clock)
    answers = records.answers(CASE, "EMEA", "US")
    handoff = await service.request(answers, records.PLACEHOLDER_OUTPUTS, ANA)
    outcome = await service.act(handoff.id, Accept(actor=BO), handoff.version)
    assert await world.store.plan_group_chat(CHAT)
    return outcome.handoff


def creates(fake_graph: FakeGraph) -> list[str]:
    return [r.path for r in fake_graph.requests if r.method == "POST" and r.path == "/v1.0/chats"]


async def test_the_chat_is_made_with_the_owners_and_kept_before_the_install_is_queued(
    world: StepWorld, graph: GraphClient, fake_graph: FakeGraph
) -> None:
    await accepted_case(world)
    item = await world.enqueued(
        effects.group_chat_step(effects.OutboxKind.CREATE_GROUP_CHAT, CASE, NOW)
    )

    await world.run(handlers(world, graph).create, item)

    [(chat_id, made)] = fake_graph.chats.items()
    assert made["topic"] == CHAT.topic
    assert [m["user@odata.bind"].split("'")[1] for m in made["members"]] == ["aad-ana", "aad-bo"]
    stored = await world.store.group_chat(CASE)
    assert stored is not None and (stored.chat_id, stored.state) == (
        chat_id,
        GroupChatState.CREATED,
    )
    install = await world.item(f"{effects.OutboxKind.INSTALL_CHAT_APP}:{CASE}")
    assert install.lane == effects.group_chat_lane(CASE)


async def test_a_retry_of_create_finds_the_chat_it_made_and_makes_no_second(
    world: StepWorld, graph: GraphClient, fake_graph: FakeGraph
) -> None:
    await accepted_case(world)
    item = await world.enqueued(
        effects.group_chat_step(effects.OutboxKind.CREATE_GROUP_CHAT, CASE, NOW)
    )
    await world.run(handlers(world, graph).create, item)
    await world.run(handlers(world, graph).create, await world.item(item.dedupe_key))

    assert len(creates(fake_graph)) == 1 and len(fake_graph.chats) == 1
    assert len(await world.items(effects.OutboxKind.INSTALL_CHAT_APP)) == 1


async def test_graph_throttled_throughout_is_left_to_the_outboxs_retry_and_tells_nobody(
    world: StepWorld, graph: GraphClient, fake_graph: FakeGraph
) -> None:
    await world.personal_chat(ANA)
    await accepted_case(world)
    fake_graph.fail_next(503, count=3, method="POST")
    item = await world.enqueued(
        effects.group_chat_step(effects.OutboxKind.CREATE_GROUP_CHAT, CASE, NOW)
    )

    with pytest.raises(GraphTransientError):
        await world.run(handlers(world, graph).create, item)

    stored = await world.store.group_chat(CASE)
    assert stored is not None and stored.state is GroupChatState.REQUESTED
    assert world.connector.requests == [] and fake_graph.chats == {}
    await world.run(handlers(world, graph).create, await world.item(item.dedupe_key))
    assert len(fake_graph.chats) == 1


async def test_a_missing_permission_fails_for_good_and_the_owners_hear_what_to_do(
    world: StepWorld, graph: GraphClient, fake_graph: FakeGraph
) -> None:
    ana_chat, bo_chat = await world.personal_chat(ANA), await world.personal_chat(BO)
    await accepted_case(world)
    fake_graph.fail_next(403, method="POST", message="Missing role Chat.Create")
    item = await world.enqueued(
        effects.group_chat_step(effects.OutboxKind.CREATE_GROUP_CHAT, CASE, NOW)
    )

    with pytest.raises(PermanentFailure, match=r"Chat\.Create"):
        await world.run(handlers(world, graph).create, item)

    stored = await world.store.group_chat(CASE)
    assert stored is not None and stored.state is GroupChatState.FAILED
    assert "Chat.Create" in (stored.last_error or "")
    for chat in (ana_chat, bo_chat):
        [told] = world.texts(chat)
        assert f"I could not make the group chat of case {CASE}" in told
        assert f"**longrunning {CASE} chat**" in told and "The case itself is unchanged" in told
    assert await world.items(effects.OutboxKind.INSTALL_CHAT_APP) == []


async def test_without_graph_the_step_fails_for_good_saying_what_to_configure(
    world: StepWorld,
) -> None:
    await accepted_case(world)
    item = await world.enqueued(
        effects.group_chat_step(effects.OutboxKind.CREATE_GROUP_CHAT, CASE, NOW)
    )
    with pytest.raises(PermanentFailure, match="TEAMS_APP_ID"):
        await world.run(handlers(world, None).create, item)


async def test_the_app_is_installed_in_the_chat_once_even_when_the_step_runs_again(
    world: StepWorld, graph: GraphClient, fake_graph: FakeGraph
) -> None:
    await accepted_case(world)
    create = await world.enqueued(
        effects.group_chat_step(effects.OutboxKind.CREATE_GROUP_CHAT, CASE, NOW)
    )
    await world.run(handlers(world, graph).create, create)
    install = await world.item(f"{effects.OutboxKind.INSTALL_CHAT_APP}:{CASE}")

    await world.run(handlers(world, graph).install, install)
    await world.run(handlers(world, graph).install, await world.item(install.dedupe_key))

    [chat_id] = fake_graph.chats
    assert fake_graph.installed_apps(chat_id) == [TEAMS_APP_ID]
    stored = await world.store.group_chat(CASE)
    assert stored is not None and stored.state is GroupChatState.INSTALLED


async def test_the_summary_books_the_owners_shift_reminder_then_posts_card_and_rules(
    world: StepWorld, graph: GraphClient, fake_graph: FakeGraph
) -> None:
    await accepted_case(world)
    await world.run(
        handlers(world, graph).create,
        await world.enqueued(
            effects.group_chat_step(effects.OutboxKind.CREATE_GROUP_CHAT, CASE, NOW)
        ),
    )
    [chat_id] = fake_graph.chats
    await world.group_chat(chat_id)
    item = await world.enqueued(
        effects.group_chat_step(effects.OutboxKind.POST_CHAT_SUMMARY, CASE, NOW)
    )
    world.connector.fail_next(429, retry_after=1, method="POST")

    with pytest.raises(Exception, match="429"):
        await world.run(handlers(world, graph).post_summary, item)
    [reminder] = await world.items(effects.OutboxKind.CHAT_SHIFT_REMINDER)
    assert reminder.payload["region"] == "US", "Bo, the owner, is reminded"

    await world.run(handlers(world, graph).post_summary, await world.item(item.dedupe_key))
    card, rules = world.connector.activities(chat_id)
    assert CASE in all_text(card["attachments"][0]["content"])
    assert rules["text"] == chat_rules()
    assert len(await world.items(effects.OutboxKind.CHAT_SHIFT_REMINDER)) == 1
    stored = await world.store.group_chat(CASE)
    assert stored is not None and stored.state is GroupChatState.POSTED


async def test_a_summary_for_a_chat_teams_has_not_announced_fails_for_good(
    world: StepWorld, graph: GraphClient
) -> None:
    await accepted_case(world)
    await world.store.update_group_chat(CASE, GroupChatState.INSTALLED, chat_id="19:x@thread.v2")
    item = await world.enqueued(
        effects.group_chat_step(effects.OutboxKind.POST_CHAT_SUMMARY, CASE, NOW)
    )
    with pytest.raises(PermanentFailure, match="not known to the bot"):
        await world.run(handlers(world, graph).post_summary, item)
    assert world.connector.requests == []


async def test_the_shift_reminder_names_the_next_owner_and_books_theirs(
    world: StepWorld, graph: GraphClient
) -> None:
    await accepted_case(world)
    chat_id = "19:case-chat@thread.v2"
    await world.store.update_group_chat(CASE, GroupChatState.POSTED, chat_id=chat_id)
    await world.group_chat(chat_id)
    at = NOW + timedelta(hours=6)
    world.clock.advance(timedelta(hours=6))
    item = await world.enqueued(effects.chat_shift_reminder(CASE, "US", at))

    await world.run(handlers(world, graph).shift_reminder, item)

    [text] = world.texts(chat_id)
    assert text.startswith("Bo Receiver (US): your shift ends soon.")
    assert f"to hand case {CASE} to Ana Lopez (EMEA)" in text
    reminders = await world.items(effects.OutboxKind.CHAT_SHIFT_REMINDER)
    [booked] = [i for i in reminders if i.payload["region"] == "EMEA"]
    assert booked.not_before > at


async def test_shift_reminders_stop_once_the_case_has_been_quiet_for_a_week(
    world: StepWorld, graph: GraphClient
) -> None:
    await accepted_case(world)
    chat_id = "19:case-chat@thread.v2"
    await world.store.update_group_chat(CASE, GroupChatState.POSTED, chat_id=chat_id)
    await world.group_chat(chat_id)
    world.clock.advance(timedelta(days=8))
    item = await world.enqueued(effects.chat_shift_reminder(CASE, "US", world.clock.now()))

    await world.run(handlers(world, graph).shift_reminder, item)

    assert world.connector.requests == []
    assert len(await world.items(effects.OutboxKind.CHAT_SHIFT_REMINDER)) == 1


SHIFT_ENDS = (
    "{owner} ({region}): your shift ends soon. Update the notes and type **shiftend** with a "
    "short summary to hand case {number} to {successor} ({successor_region})."
)
NOT_MADE = (
    "I could not make the group chat of case {number}: {error} The case itself is unchanged. "
    "Once that is fixed, type **longrunning {number} chat** to try again."
)


async def test_the_chat_is_told_in_the_teams_language(world: StepWorld) -> None:
    await accepted_case(world)
    chat_id = "19:case-chat@thread.v2"
    await world.store.update_group_chat(CASE, GroupChatState.POSTED, chat_id=chat_id)
    await world.group_chat(chat_id)
    world.clock.advance(timedelta(hours=6))
    item = await world.enqueued(effects.chat_shift_reminder(CASE, "US", world.clock.now()))
    steps = GroupChatHandlers(
        world.store,
        None,
        world.sender,
        world.clock,
        teams_app_id=TEAMS_APP_ID,
        schedule=SCHEDULE,
        team_language="fr",
    )

    french = "{owner} ({region}) : votre service se termine ; passez le cas {number} à {successor}."
    with translated("fr", {SHIFT_ENDS: french}):
        await world.run(steps.shift_reminder, item)

    assert world.texts(chat_id) == [
        f"Bo Receiver (US) : votre service se termine ; passez le cas {CASE} à Ana Lopez."
    ]


async def test_a_failed_chat_is_told_to_each_owner_in_their_own_language(
    world: StepWorld, graph: GraphClient, fake_graph: FakeGraph
) -> None:
    ana_chat, bo_chat = await world.personal_chat(ANA), await world.personal_chat(BO)
    settings = UserSettings(person=ANA, language="de")
    await world.store.save_user_settings(settings, records.said_by(ANA, settings, world.clock))
    await accepted_case(world)
    fake_graph.fail_next(403, method="POST", message="Missing role Chat.Create")
    item = await world.enqueued(
        effects.group_chat_step(effects.OutboxKind.CREATE_GROUP_CHAT, CASE, NOW)
    )

    german = "Den Gruppenchat von Fall {number} konnte ich nicht anlegen: {error}"
    with translated("de", {NOT_MADE: german}), pytest.raises(PermanentFailure):
        await world.run(handlers(world, graph).create, item)

    [to_ana] = world.texts(ana_chat)
    assert to_ana.startswith(f"Den Gruppenchat von Fall {CASE} konnte ich nicht anlegen: ")
    [to_bo] = world.texts(bo_chat)
    assert to_bo.startswith(f"I could not make the group chat of case {CASE}: ")
