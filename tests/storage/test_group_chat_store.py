"""The group chats of long-running cases (storage.group_chat_store), on SQLite and PostgreSQL."""

from __future__ import annotations

from handoff.long_running import ChatMember, GroupChat, GroupChatState
from storage.sql_store import SqlStore


async def test_a_failed_group_chat_is_retried_once_from_where_it_stopped(store: SqlStore) -> None:
    member = ChatMember(aad_object_id="aad-1", name="Ana", region="EMEA")
    for case, chat_id, resumes_at in (
        ("1", None, GroupChatState.REQUESTED),
        ("2", "chat-2", GroupChatState.CREATED),
    ):
        await store.plan_group_chat(GroupChat(case_number=case, topic="t", members=(member,)))
        if chat_id:
            await store.update_group_chat(case, GroupChatState.CREATED, chat_id=chat_id)
        assert await store.retry_group_chat(case) is None, "only a failed chat is retried"
        await store.update_group_chat(case, GroupChatState.FAILED, error="403")
        retried = await store.retry_group_chat(case)
        assert retried is not None
        assert (retried.state, retried.chat_id, retried.last_error) == (resumes_at, chat_id, None)
        assert await store.retry_group_chat(case) is None, "a second retry at once loses"


MEMBERS = (
    ChatMember(aad_object_id="aad-ana", name="Ana", region="EMEA"),
    ChatMember(aad_object_id="aad-bo", name="Bo", region="US"),
)


async def test_a_case_gets_one_group_chat_planned(store: SqlStore) -> None:
    first = GroupChat(case_number="330000001", topic="Case 330000001", members=MEMBERS)
    again = GroupChat(case_number="330000001", topic="Another topic", members=MEMBERS[:1])

    assert await store.plan_group_chat(first) is True
    assert await store.plan_group_chat(again) is False

    assert await store.group_chat("330000001") == first
    assert await store.group_chat("330000002") is None


async def test_a_created_chat_is_found_by_its_id_and_keeps_it_through_later_steps(
    store: SqlStore,
) -> None:
    await store.plan_group_chat(GroupChat(case_number="330000003", topic="t", members=MEMBERS))
    await store.update_group_chat("330000003", GroupChatState.CREATED, chat_id="19:chat")
    await store.update_group_chat("330000003", GroupChatState.INSTALLED)
    await store.update_group_chat("330000003", GroupChatState.FAILED, error="posting: 403")

    chat = await store.group_chat_by_id("19:chat")

    assert chat is not None
    assert (chat.case_number, chat.chat_id, chat.members) == ("330000003", "19:chat", MEMBERS)
    assert (chat.state, chat.last_error) == (GroupChatState.FAILED, "posting: 403")
    assert await store.group_chat_by_id("19:other") is None
