"""Where the bot reaches people and channels (storage.conversation_store), on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from handoff.models import AuditEntry, AuditKind, Person
from handoff.ports import ConversationAddress, ConversationKind
from storage.sql_store import SqlStore

from conftest import FakeClock

ENGINEER = Person(id="29:engineer", name="Eli Engineer", aad_object_id="aad-engineer")
REQUESTER = Person(id="29:requester", name="Ana Requester", aad_object_id="aad-requester")


def address(
    clock: FakeClock,
    conversation_id: str,
    kind: ConversationKind,
    *,
    user: Person | None = None,
    channel_id: str | None = None,
    service_url: str = "https://smba.trafficmanager.net/emea/",
) -> ConversationAddress:
    return ConversationAddress(
        conversation_id=conversation_id,
        kind=kind,
        service_url=service_url,
        tenant_id="tenant-1",
        user=user,
        team_id="19:team@thread.tacv2" if channel_id else None,
        channel_id=channel_id,
        reference={"conversation": {"id": conversation_id}, "bot": {"id": "28:bot"}},
        updated_at=clock.now(),
    )


async def test_conversations_are_found_by_user_id_aad_id_and_channel(
    store: SqlStore, clock: FakeClock
) -> None:
    personal = address(clock, "a:personal-1", ConversationKind.PERSONAL, user=ENGINEER)
    channel = address(clock, "19:transfer@thread.tacv2", ConversationKind.CHANNEL,
                      channel_id="19:transfer@thread.tacv2")  # fmt: skip
    group = address(clock, "19:group@thread.v2", ConversationKind.GROUP_CHAT, user=ENGINEER)
    for conversation in (personal, channel, group):
        await store.save_conversation(conversation)

    assert await store.get_conversation("a:personal-1") == personal
    assert await store.personal_conversation(ENGINEER.id) == personal
    assert await store.personal_conversation("aad-engineer") == personal
    assert await store.personal_conversation(REQUESTER.id) is None
    assert await store.channel_conversation("19:transfer@thread.tacv2") == channel
    assert await store.channel_conversation("19:other@thread.tacv2") is None
    assert await store.get_conversation("unknown") is None


async def test_saving_a_conversation_again_replaces_it(store: SqlStore, clock: FakeClock) -> None:
    await store.save_conversation(
        address(clock, "a:personal-1", ConversationKind.PERSONAL, user=ENGINEER)
    )
    clock.advance(timedelta(hours=1))
    moved_user = ENGINEER.model_copy(update={"aad_object_id": "aad-engineer-new"})
    newer = address(
        clock,
        "a:personal-1",
        ConversationKind.PERSONAL,
        user=moved_user,
        service_url="https://smba.trafficmanager.net/amer/",
    )
    await store.save_conversation(newer)

    assert await store.get_conversation("a:personal-1") == newer
    assert await store.personal_conversation("aad-engineer-new") == newer
    assert await store.personal_conversation("aad-engineer") is None


async def test_the_channel_itself_is_preferred_over_a_reply_thread(
    store: SqlStore, clock: FakeClock
) -> None:
    channel_id = "19:transfer@thread.tacv2"
    root = address(clock, channel_id, ConversationKind.CHANNEL, channel_id=channel_id)
    await store.save_conversation(root)
    clock.advance(timedelta(minutes=1))
    thread = address(
        clock, f"{channel_id};messageid=1711", ConversationKind.CHANNEL, channel_id=channel_id
    )
    await store.save_conversation(thread)

    assert await store.channel_conversation(channel_id) == root


async def test_a_person_is_reached_in_the_personal_chat_seen_last(
    store: SqlStore, clock: FakeClock
) -> None:
    await store.save_conversation(
        address(clock, "a:personal-old", ConversationKind.PERSONAL, user=ENGINEER)
    )
    clock.advance(timedelta(days=1))
    newer = address(clock, "a:personal-new", ConversationKind.PERSONAL, user=ENGINEER)
    await store.save_conversation(newer)

    assert await store.personal_conversation(ENGINEER.id) == newer
    assert await store.personal_conversation("aad-engineer") == newer


async def test_the_team_of_the_bound_channel_else_of_the_configured_one(
    store: SqlStore, clock: FakeClock
) -> None:
    bound, configured = "19:bound@thread.tacv2", "19:configured@thread.tacv2"
    await store.save_conversation(
        address(clock, configured, ConversationKind.CHANNEL, channel_id=configured)
    )
    assert await store.team_of_bound_channel("case_transfer_channel_id", "") is None
    assert await store.team_of_bound_channel("case_transfer_channel_id", configured) == (
        "19:team@thread.tacv2"
    )

    def setup() -> AuditEntry:
        return AuditEntry(kind=AuditKind.CHANNEL_BOUND, actor=ENGINEER, at=clock.now(), subject="-")

    await store.set_setting("case_transfer_channel_id", bound, setup())
    assert await store.team_of_bound_channel("case_transfer_channel_id", configured) is None
    thread = address(clock, f"{bound};messageid=1711", ConversationKind.CHANNEL, channel_id=bound)
    await store.save_conversation(thread.model_copy(update={"team_id": "19:thread@thread.tacv2"}))
    await store.save_conversation(address(clock, bound, ConversationKind.CHANNEL, channel_id=bound))
    assert await store.team_of_bound_channel("case_transfer_channel_id", configured) == (
        "19:team@thread.tacv2"
    ), "the channel's own conversation, not a reply thread's"
    await store.set_setting("case_transfer_channel_id", "", setup())
    assert await store.team_of_bound_channel("case_transfer_channel_id", configured) == (
        "19:team@thread.tacv2"
    ), "an empty setting binds no channel"
