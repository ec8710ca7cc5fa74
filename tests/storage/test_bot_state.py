"""The contract of SqlBotStorage (botbuilder Storage), on SQLite and PostgreSQL alike, with the
e-tag semantics of botbuilder's MemoryStorage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botbuilder.core import ConversationState, StoreItem, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import (
    DialogInstance,
    DialogSet,
    DialogState,
    DialogTurnStatus,
    PromptOptions,
    TextPrompt,
    WaterfallDialog,
    WaterfallStepContext,
)
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from handoff.ports import Clock, StoredDocument
from storage.bot_state import BotStateConflict, SqlBotStorage
from storage.sql_store import SqlStore, open_store


@pytest.fixture
def bot_storage(store: SqlStore, clock: Clock) -> SqlBotStorage:
    return SqlBotStorage(store.database, clock)


async def stored_doc(store: SqlStore, key: str) -> str | None:
    row = await store.database.fetch_one("SELECT doc FROM bot_state WHERE key = ?", key)
    return None if row is None else str(row["doc"])


def dialog_state() -> DialogState:
    shared_answers = {"case_number": "123456789", "severity": "A"}
    return DialogState(
        [
            DialogInstance(
                id="TextPrompt",
                state={"options": {"prompt": "Which region?"}, "state": {"attemptCount": 1}},
            ),
            DialogInstance(
                id="handoff-request",
                state={
                    "stepIndex": 2,
                    "values": {"answers": shared_answers, "confirmed": shared_answers},
                    "started_at": datetime(2025, 3, 30, 0, 59, tzinfo=UTC),
                    "retries": {1: "first", 2: "second"},
                },
            ),
        ]
    )


async def test_a_dict_with_nested_objects_round_trips(bot_storage: SqlBotStorage) -> None:
    value: dict[str, Any] = {
        "profile": {"name": "Ana", "regions": ["EMEA", "APAC"], "shift": (9, 17)},
        "last_seen": datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
        "wait": timedelta(minutes=15),
        "counter": 3,
    }
    await bot_storage.write({"msteams/users/ana": value})

    read = await bot_storage.read(["msteams/users/ana", "msteams/users/missing"])

    assert list(read) == ["msteams/users/ana"]
    item = read["msteams/users/ana"]
    assert isinstance(item, dict)
    e_tag = item.pop("e_tag")
    assert isinstance(e_tag, str) and e_tag
    assert value.pop("e_tag") == e_tag  # the written dict was given the stored e-tag
    assert item == value


async def test_a_store_item_round_trips_with_its_e_tag(bot_storage: SqlBotStorage) -> None:
    await bot_storage.write({"item": StoreItem(counter=1, label="first")})

    item = (await bot_storage.read(["item"]))["item"]

    assert isinstance(item, StoreItem)
    assert (item.counter, item.label) == (1, "first")
    assert isinstance(item.e_tag, str) and item.e_tag


async def test_dialog_state_round_trips(bot_storage: SqlBotStorage) -> None:
    key = "msteams/conversations/a:1"
    await bot_storage.write({key: {"DialogState": dialog_state()}})

    item = (await bot_storage.read([key]))[key]

    assert isinstance(item, dict)
    restored = item["DialogState"]
    assert isinstance(restored, DialogState)
    assert [instance.id for instance in restored.dialog_stack] == ["TextPrompt", "handoff-request"]
    waterfall = restored.dialog_stack[1].state
    assert waterfall["stepIndex"] == 2
    assert waterfall["started_at"] == datetime(2025, 3, 30, 0, 59, tzinfo=UTC)
    assert waterfall["retries"] == {1: "first", 2: "second"}
    values = waterfall["values"]
    assert values["answers"] == {"case_number": "123456789", "severity": "A"}
    assert values["answers"] is values["confirmed"]


async def test_a_stale_e_tag_is_refused_and_nothing_is_written(
    store: SqlStore, bot_storage: SqlBotStorage
) -> None:
    await bot_storage.write({"k": {"v": 1}, "other": {"v": 1}})
    first_read = (await bot_storage.read(["k"]))["k"]
    second_read = await bot_storage.read(["k", "other"])
    assert isinstance(first_read, dict)
    first_read["v"] = 2
    await bot_storage.write({"k": first_read})
    doc_after_first_write = await stored_doc(store, "k")

    stale = second_read["k"]
    assert isinstance(stale, dict)
    stale["v"] = 3
    fresh_other = second_read["other"]
    assert isinstance(fresh_other, dict)
    fresh_other["v"] = 99
    with pytest.raises(KeyError) as raised:
        await bot_storage.write({"other": fresh_other, "k": stale})

    assert isinstance(raised.value, BotStateConflict)
    assert "'k'" in str(raised.value) and "changed by another turn" in str(raised.value)
    assert await stored_doc(store, "k") == doc_after_first_write
    after = await bot_storage.read(["k", "other"])
    assert after["k"] == {"v": 2, "e_tag": first_read["e_tag"]}
    other = after["other"]
    assert isinstance(other, dict) and other["v"] == 1


async def test_a_matching_e_tag_writes_and_the_caller_gets_the_new_one(
    bot_storage: SqlBotStorage,
) -> None:
    await bot_storage.write({"k": StoreItem(v=1)})
    item = (await bot_storage.read(["k"]))["k"]
    assert isinstance(item, StoreItem)
    read_e_tag = item.e_tag

    item.v = 2
    await bot_storage.write({"k": item})
    item.v = 3
    await bot_storage.write({"k": item})

    stored = (await bot_storage.read(["k"]))["k"]
    assert isinstance(stored, StoreItem)
    assert stored.v == 3
    assert stored.e_tag == item.e_tag != read_e_tag


async def test_star_and_none_overwrite_whatever_is_stored(bot_storage: SqlBotStorage) -> None:
    await bot_storage.write({"k": {"v": 1}})
    await bot_storage.write({"k": {"v": 2, "e_tag": "*"}})
    assert (await bot_storage.read(["k"]))["k"]["v"] == 2  # type: ignore[index]

    await bot_storage.write({"k": StoreItem(v=3, e_tag=None)})
    item = (await bot_storage.read(["k"]))["k"]
    assert isinstance(item, StoreItem) and item.v == 3


async def test_an_empty_e_tag_is_refused(bot_storage: SqlBotStorage) -> None:
    with pytest.raises(ValueError, match="empty e-tag"):
        await bot_storage.write({"k": {"v": 1, "e_tag": ""}})
    assert await bot_storage.read(["k"]) == {}


async def test_writing_a_deleted_key_with_its_old_e_tag_stores_it_again(
    bot_storage: SqlBotStorage,
) -> None:
    # MemoryStorage only compares e-tags when the key is stored.
    await bot_storage.write({"k": {"v": 1}})
    item = (await bot_storage.read(["k"]))["k"]
    await bot_storage.delete(["k"])

    await bot_storage.write({"k": item})

    assert (await bot_storage.read(["k"]))["k"]["v"] == 1  # type: ignore[index]


async def test_delete_removes_keys_and_ignores_missing_ones(bot_storage: SqlBotStorage) -> None:
    await bot_storage.write({"a": {"v": 1}, "b": {"v": 2}, "c": {"v": 3}})

    await bot_storage.delete(["a", "c", "never-written"])
    await bot_storage.delete({"a"})

    assert list(await bot_storage.read(["a", "b", "c"])) == ["b"]
    assert await bot_storage.read([]) == {}


async def test_bot_state_survives_a_restart(database_url: str, clock: Clock) -> None:
    first = await open_store(database_url, clock)
    await SqlBotStorage(first.database, clock).write({"k": {"DialogState": dialog_state()}})
    await first.close()

    second = await open_store(database_url, clock)
    try:
        item = (await SqlBotStorage(second.database, clock).read(["k"]))["k"]
    finally:
        await second.close()

    assert isinstance(item, dict)
    assert [i.id for i in item["DialogState"].dialog_stack] == ["TextPrompt", "handoff-request"]


# -- Through botbuilder's own state management ----------------------------------------------


def turn_context(conversation_id: str = "a:conv-1") -> TurnContext:
    activity = Activity(
        type="message",
        text="hello",
        channel_id="msteams",
        conversation=ConversationAccount(id=conversation_id),
        from_property=ChannelAccount(id="29:user"),
        recipient=ChannelAccount(id="28:bot"),
    )
    return TurnContext(TestAdapter(), activity)


async def test_conversation_state_saves_twice_in_one_turn_and_loads_next_turn(
    bot_storage: SqlBotStorage,
) -> None:
    state = ConversationState(bot_storage)
    counter = state.create_property("counter")
    context = turn_context()
    await state.load(context)
    await counter.set(context, 1)
    await state.save_changes(context)
    await counter.set(context, 2)
    await state.save_changes(context)

    next_turn = turn_context()
    await state.load(next_turn)

    assert await counter.get(next_turn) == 2


async def test_two_turns_racing_on_one_conversation_do_not_both_win(
    bot_storage: SqlBotStorage,
) -> None:
    state = ConversationState(bot_storage)
    counter = state.create_property("counter")
    setup = turn_context()
    await state.load(setup)
    await counter.set(setup, 0)
    await state.save_changes(setup)

    first, second = turn_context(), turn_context()
    await state.load(first)
    await state.load(second)
    await counter.set(first, 1)
    await counter.set(second, 2)
    await state.save_changes(first)

    with pytest.raises(KeyError):
        await state.save_changes(second)
    check = turn_context()
    await state.load(check)
    assert await counter.get(check) == 1


async def test_a_waterfall_dialog_continues_after_a_restart(
    database_url: str, clock: Clock
) -> None:
    async def ask(step: WaterfallStepContext) -> Any:
        prompt = Activity(type="message", text="Which case number?")
        return await step.prompt("case", PromptOptions(prompt=prompt))

    async def confirm(step: WaterfallStepContext) -> Any:
        await step.context.send_activity(f"Handing off case {step.result}.")
        return await step.end_dialog(step.result)

    async def one_turn(text: str) -> list[str]:
        """One user message, served by a freshly started bot (store opened anew)."""
        opened = await open_store(database_url, clock)
        try:
            state = ConversationState(SqlBotStorage(opened.database, clock))
            dialogs = DialogSet(state.create_property("DialogState"))
            dialogs.add(TextPrompt("case"))
            dialogs.add(WaterfallDialog("handoff", [ask, confirm]))

            async def logic(context: TurnContext) -> None:
                dialog_context = await dialogs.create_context(context)
                result = await dialog_context.continue_dialog()
                if result.status == DialogTurnStatus.Empty:
                    await dialog_context.begin_dialog("handoff")
                await state.save_changes(context)

            adapter = TestAdapter(logic)
            await adapter.send(text)
            return [activity.text for activity in adapter.activity_buffer]
        finally:
            await opened.close()

    assert await one_turn("hand off a case") == ["Which case number?"]
    assert await one_turn("123456789") == ["Handing off case 123456789."]


async def test_a_document_read_ahead_answers_the_first_read_and_no_later_one(
    store: SqlStore, bot_storage: SqlBotStorage
) -> None:
    """The turn's claim read the state moments before; once the turn writes, what it reads
    again is what it wrote, not the copy read ahead."""
    await bot_storage.write({"conv": {"step": 1}})
    claimed = await store.claim_keys(["delivery:1"], "a#1", timedelta(seconds=15), "conv")
    assert claimed.read_along is not None and claimed.read_along.doc is not None
    await bot_storage.write({"conv": {"step": 2}})  # another turn, after the claim

    with bot_storage.read_ahead("conv", claimed.read_along):
        first = await bot_storage.read(["conv"])
        await bot_storage.write({"conv": {"step": 3}})
        again = await bot_storage.read(["conv"])

    assert first["conv"]["step"] == 1  # type: ignore[index]  # as the claim read it
    assert again["conv"]["step"] == 3  # type: ignore[index]
    assert (await bot_storage.read(["conv"]))["conv"]["step"] == 3  # type: ignore[index]


async def test_a_claim_reading_a_document_never_stored_reads_nothing(
    store: SqlStore, bot_storage: SqlBotStorage
) -> None:
    claimed = await store.claim_keys(["delivery:1"], "a#1", timedelta(seconds=15), "new")
    assert claimed.read_along is not None and claimed.read_along.doc is None
    with bot_storage.read_ahead("new", claimed.read_along):
        assert await bot_storage.read(["new"]) == {}


@pytest.mark.parametrize(
    ("doc", "none_open"),
    [
        (None, True),  # never stored
        ('{"DialogState": {"py/object": "x.DialogState", "_dialog_stack": []}}', True),
        ('{"DialogState": {"py/object": "x.DialogState", "_dialog_stack": [{"id": "h"}]}}', False),
        ('{"DialogState": {"_dialog_stack": []}, "other": 1}', False),  # more than dialogs
        ('{"DialogState": {"py/object": "x.DialogState"}}', False),  # a shape not known
        ("not json", False),
    ],
)
def test_only_a_state_known_to_hold_no_dialog_lets_a_turn_skip_loading_it(
    bot_storage: SqlBotStorage, doc: str | None, none_open: bool
) -> None:
    """A turn that wrongly skipped the state would take a dialog's answer for a command."""
    stored = StoredDocument(e_tag=None if doc is None else "e1", doc=doc)
    assert not bot_storage.read_ahead_holds_no_dialog("conv", "DialogState")
    with bot_storage.read_ahead("conv", stored):
        assert bot_storage.read_ahead_holds_no_dialog("conv", "DialogState") is none_open
        assert not bot_storage.read_ahead_holds_no_dialog("other", "DialogState")
