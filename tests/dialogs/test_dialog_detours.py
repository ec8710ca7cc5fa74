"""What a support engineer does in the middle of a handoff besides answering its cards: looks
something up, starts another handoff, pastes notes that look like a command. The dialog keeps
its place and its answers; nothing already given is dropped without asking."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from application import messages
from dialogs.handoff_draft import use_the_card

from conftest import FakeClock
from harness.chat import all_text, cards, form_of, texts
from harness.dialog_user import (
    CASE,
    CRITICAL_CASE,
    CRITICAL_NOTES,
    Recorder,
)

OTHER_CASE = "2311230040005678"
BETWEEN = {"kind": "between", "target_region": "US", "reason": "continual-support"}


@pytest.fixture(autouse=True)
def tuesday(clock: FakeClock) -> None:
    clock._now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def requested(user: Recorder, case: str) -> None:
    """`case` handed off by the user, through the whole dialog."""
    await user.say(f"handoff {case}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", **BETWEEN)
    await user.submit("notes", **CRITICAL_NOTES)
    await user.submit("meeting", can_attend="yes")
    await user.submit("review")


@pytest.mark.parametrize(
    "command", [f"status {CASE}", "status", "list", "list US", "mine", "shifts", "help", "settings"]
)
async def test_a_read_only_command_mid_dialog_is_answered_and_the_dialog_stays_put(
    command: str, user: Recorder
) -> None:
    await requested(user, CASE)
    await user.say(f"handoff {OTHER_CASE}")
    await user.submit("case", **CRITICAL_CASE)
    replies = await user.say(command)
    said = texts(replies)
    assert use_the_card() not in said, f"{command} was taken for an answer"
    assert said[-1] == messages.in_a_handoff()
    if command.startswith("status "):
        [status] = cards(replies)
        assert f"Case {CASE}" in all_text(status)
    # The dialog is where it was: the transfer card's answer moves it on.
    assert form_of(cards(await user.submit("transfer", **BETWEEN))[-1]) == "notes"


async def test_notes_pasted_mid_dialog_that_start_like_a_command_stay_notes(
    user: Recorder,
) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", **BETWEEN)
    replies = await user.say("Status\n=============\nWaiting for the customer's logs.")
    assert messages.in_a_handoff() not in texts(replies)
    assert form_of(cards(replies)[-1]) == "notes", "read as notes, not as the status command"


async def test_another_handoff_mid_dialog_asks_first_and_keeping_loses_nothing(
    user: Recorder,
) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", **BETWEEN)

    [ask] = cards(await user.say(f"handoff {OTHER_CASE}"))
    shown = all_text(ask)
    assert f"You were handing off case {CASE}" in shown and f"case {OTHER_CASE}" in shown
    [notes] = cards(await user.press(ask, "Keep"))
    assert form_of(notes) == "notes", "back where the person was"
    [meeting] = cards(await user.submit("notes", **CRITICAL_NOTES))
    assert form_of(meeting) == "meeting", "the transfer answers were kept"


async def test_another_handoff_mid_dialog_is_started_once_the_draft_is_dropped(
    user: Recorder,
) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    [ask] = cards(await user.say(f"handoff {OTHER_CASE}"))
    replies = await user.press(ask, "Drop")
    assert messages.handoff_restarted() in texts(replies)
    [case_form] = cards(replies)
    assert form_of(case_form) == "case" and OTHER_CASE in all_text(case_form)
    # A bare `handoff` asks too, and the same case number just carries on.
    [ask] = cards(await user.say("handoff"))
    assert "start a new one" in all_text(ask)
    replies = await user.say(f"handoff {OTHER_CASE}")
    assert texts(replies)[0] == messages.already_handing_off(OTHER_CASE)
    assert form_of(cards(replies)[-1]) == "case"


async def test_an_old_drop_button_does_not_drop_the_draft_started_since(user: Recorder) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    [ask] = cards(await user.say(f"handoff {OTHER_CASE}"))
    await user.press(ask, "Drop")
    await user.submit("case", **CRITICAL_CASE)  # the new draft has answers now
    replies = await user.press(ask, "Drop")  # pressed again, or delivered again
    assert texts(replies)[0] == messages.restart_card_outdated()
    [transfer] = cards(replies)
    assert form_of(transfer) == "transfer", "the new draft carries on where it was"


async def test_going_back_to_the_open_handoff_keeps_the_edits_made_to_it(
    user: Recorder,
) -> None:
    await requested(user, CASE)
    await user.say(f"handoff {CASE}")
    await user.submit("existing")  # update it
    await user.submit("case", **{**CRITICAL_CASE, "title": "Edited title"})
    await user.say("back")  # the case form
    [existing] = cards(await user.say("back"))
    assert form_of(existing) == "existing"
    [case_form] = cards(await user.submit("existing"))
    assert form_of(case_form) == "case"
    assert "Edited title" in str(case_form), "the edit is still there"
