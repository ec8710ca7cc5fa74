"""The form engine on its own: steps asked in order, Back, Cancel, a retry that keeps what was
typed, a new case that starts over, an old card's button, answers an update no longer reads,
and the answers kept in the database across a bot restart (every turn here opens the store
anew, as a restarted bot would)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.dialogs import DialogSet, DialogTurnStatus
from botbuilder.schema import Activity, Entity

from dialogs.form_flow import (
    Advance,
    Answers,
    Finish,
    FormDialog,
    FormOutdated,
    Outcome,
    Reply,
    Retry,
    Step,
    answers_in_progress,
    step_in_progress,
)
from handoff.models import Person
from storage.bot_state import SqlBotStorage
from storage.sql_store import open_store
from teams.activities import client_timezone

from conftest import FakeClock
from harness.chat import template
from harness.dialog_user import CASE, CRITICAL_CASE

CANCELLED, STALE, OUTDATED = "Cancelled.", "That card is old.", "The form changed."


def _always(answers: Answers) -> bool:
    return True


@dataclass
class Question(Step):
    """A step that asks "<name>?" (with the problems to fix), and keeps the typed answer."""

    name: str
    applies_when: Callable[[Answers], bool] = _always
    askable_when: Callable[[Answers], bool] = _always
    notices: tuple[str, ...] = ()
    restart: bool = False
    received: list[Reply] = field(default_factory=list)

    def applies(self, answers: Answers) -> bool:
        return self.applies_when(answers)

    def askable(self, answers: Answers) -> bool:
        return self.askable_when(answers)

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Activity | str]:
        return [f"{self.name}?", *(f"Please fix: {p}" for p in problems)]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        self.received.append(reply)
        typed = reply.text or str((reply.value or {}).get(self.name, ""))
        if not typed.strip():
            return Retry((f"{self.name} is required.",), {f"{self.name}_tried": True})
        return Advance({self.name: typed}, notices=self.notices, restart=self.restart)


class Review(Step):
    name = "review"

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Activity | str]:
        return ["Send it?"]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        if reply.text == "old":
            raise FormOutdated("the stored answers predate this form")
        return Finish((f"Sent case {answers['case']}.",))


class Bot:
    """The form dialog over a real SQLite file; each turn is served by a freshly opened store
    (as after a restart), and every reply's text and the dialog's result are kept."""

    def __init__(self, url: str, clock: FakeClock, steps: Sequence[Step]) -> None:
        self.url, self.clock, self.steps = url, clock, steps
        self.results: list[Any] = []
        self.in_progress: list[tuple[Answers, str | None]] = []

    async def send(
        self, activity: Activity | str, *, zone: str | None = None, reprompt: bool = False
    ) -> list[str]:
        if isinstance(activity, str):
            activity = Activity(type="message", text=activity)
        activity.local_timezone = zone
        store = await open_store(self.url, self.clock)
        try:
            state = ConversationState(SqlBotStorage(store.database, self.clock))
            dialogs = DialogSet(state.create_property("DialogState"))
            dialogs.add(
                FormDialog(
                    "form",
                    self.steps,
                    cancelled_text=CANCELLED,
                    stale_text=STALE,
                    outdated_text=OUTDATED,
                )
            )

            async def logic(context: TurnContext) -> None:
                dc = await dialogs.create_context(context)
                if reprompt:  # a detour ends: ask the current question again
                    await dc.reprompt_dialog()
                    self.in_progress.append((dict(answers_in_progress(dc)), step_in_progress(dc)))
                    await state.save_changes(context)
                    return
                result = await dc.continue_dialog()
                if result.status == DialogTurnStatus.Empty:
                    result = await dc.begin_dialog("form", {"started_by": "test"})
                if result.status == DialogTurnStatus.Complete:
                    self.results.append(result.result)
                self.in_progress.append((dict(answers_in_progress(dc)), step_in_progress(dc)))
                await state.save_changes(context)

            adapter = TestAdapter(logic, template())
            await adapter.receive_activity(activity)
            return [str(reply.text) for reply in adapter.activity_buffer]
        finally:
            await store.close()

    async def submit(self, form: str, action: str = "next", **values: Any) -> list[str]:
        value = {"form": form, "action": action, **values}
        return await self.send(Activity(type="message", text="", value=value))

    @property
    def answers(self) -> Answers:
        """The answers of the form in progress after the last turn."""
        return self.in_progress[-1][0]

    @property
    def step(self) -> str | None:
        """The question the form in progress asked last."""
        return self.in_progress[-1][1]


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


def form(**overrides: Question) -> list[Step]:
    steps: dict[str, Step] = {
        "case": Question("case"),
        "region": Question("region"),
        "notes": Question("notes"),
        "review": Review(),
    }
    steps.update(overrides)
    return list(steps.values())


async def test_the_steps_are_asked_in_order_and_the_answers_come_back_at_the_end(
    url: str, clock: FakeClock
) -> None:
    bot = Bot(url, clock, form())
    assert await bot.send("handoff") == ["case?"]
    assert await bot.send(CASE) == ["region?"]
    assert (bot.answers, bot.step) == ({"started_by": "test", "case": CASE}, "region")
    assert await bot.send(CRITICAL_CASE["customer_region"]) == ["notes?"]
    assert await bot.send("Autoscale stops") == ["Send it?"]
    assert await bot.send("yes") == [f"Sent case {CASE}."]
    [result] = bot.results
    assert result == {
        "started_by": "test",
        "case": CASE,
        "region": CRITICAL_CASE["customer_region"],
        "notes": "Autoscale stops",
    }
    assert (bot.answers, bot.step) == ({}, None), "no dialog is left in progress"


async def test_a_step_that_does_not_apply_is_skipped(url: str, clock: FakeClock) -> None:
    region = Question("region", applies_when=lambda answers: answers.get("case") != CASE)
    bot = Bot(url, clock, form(region=region))
    await bot.send("handoff")
    assert await bot.send(CASE) == ["notes?"]
    assert region.received == []


async def test_an_answer_to_fix_asks_again_saying_what_and_keeps_what_was_typed(
    url: str, clock: FakeClock
) -> None:
    bot = Bot(url, clock, form())
    await bot.send("handoff")
    await bot.send(CASE)
    assert await bot.submit("region", region="") == ["region?", "Please fix: region is required."]
    assert bot.answers["region_tried"] is True
    assert bot.step == "region"
    assert await bot.submit("region", region="US") == ["notes?"], "the problems are gone"


async def test_back_asks_the_previous_question_again(url: str, clock: FakeClock) -> None:
    bot = Bot(url, clock, form())
    await bot.send("handoff")
    await bot.send(CASE)
    await bot.send("US")
    assert await bot.send("  Back ") == ["region?"]
    assert await bot.submit("region", "back") == ["case?"]
    assert await bot.send("back") == ["case?"], "Back on the first question stays there"
    assert bot.answers["region"] == "US", "going back forgets no answer"


async def test_back_skips_a_question_time_made_moot(url: str, clock: FakeClock) -> None:
    moot = Question("region", askable_when=lambda answers: "notes" not in answers)
    bot = Bot(url, clock, form(region=moot))
    await bot.send("handoff")
    await bot.send(CASE)
    await bot.send("US")
    await bot.send("Autoscale stops")
    assert await bot.send("back") == ["notes?"]
    assert await bot.send("back") == ["case?"], "region can no longer be asked: skipped"


async def test_after_a_detour_the_question_is_asked_again_unless_time_made_it_moot(
    url: str, clock: FakeClock
) -> None:
    moot = {"region": False}
    region = Question("region", askable_when=lambda answers: not moot["region"])
    bot = Bot(url, clock, form(region=region))
    await bot.send("handoff")
    await bot.send(CASE)
    assert await bot.send("keep", reprompt=True) == ["region?"]
    moot["region"] = True
    assert await bot.send("keep", reprompt=True) == ["notes?"]
    assert bot.step == "notes"
    assert await bot.send("Autoscale stops") == ["Send it?"], "the answer goes to notes"
    assert region.received == []


@pytest.mark.parametrize("how", ["typed", "button"])
async def test_cancel_ends_the_form_and_says_so(url: str, clock: FakeClock, how: str) -> None:
    bot = Bot(url, clock, form())
    await bot.send("handoff")
    await bot.send(CASE)
    said = await (bot.send(" QUIT ") if how == "typed" else bot.submit("region", "cancel"))
    assert said == [CANCELLED]
    assert bot.results == [None], "a cancelled form gives back no answers"
    assert await bot.send("hello") == ["case?"], "the next message starts afresh"


async def test_a_button_of_an_older_card_changes_nothing_and_asks_the_current_question(
    url: str, clock: FakeClock
) -> None:
    bot = Bot(url, clock, form())
    await bot.send("handoff")
    await bot.send(CASE)
    await bot.send("US")
    before = dict(bot.answers)
    assert await bot.submit("case", case="2311230040009999") == [STALE, "notes?"]
    assert bot.answers == before
    assert bot.step == "notes"


async def test_another_case_number_starts_over_keeping_only_the_readers_zone(
    url: str, clock: FakeClock
) -> None:
    bot = Bot(url, clock, form(case=Question("case", restart=True, notices=("New case.",))))
    await bot.send("handoff")
    await bot.send(CASE, zone="Europe/Berlin")
    await bot.send("US")
    await bot.send("back")
    await bot.send("back")
    assert await bot.send("2311230040009999") == ["New case.", "region?"]
    # The options the form began with and the old case's answers are gone.
    assert bot.answers == {"reader_zone": "Europe/Berlin", "case": "2311230040009999"}
    assert await bot.send("back") == ["case?"], "the old case's steps are no history now"


async def test_answers_an_update_no_longer_reads_end_the_form_with_a_word(
    url: str, clock: FakeClock
) -> None:
    bot = Bot(url, clock, form())
    await bot.send("handoff")
    await bot.send(CASE)
    await bot.send("US")
    await bot.send("Autoscale stops")
    assert await bot.send("old") == [OUTDATED]
    assert bot.results == [None]
    assert await bot.send("hello") == ["case?"], "the person is not stuck in the old form"


async def test_the_clients_zone_is_kept_only_when_it_is_a_real_zone(
    url: str, clock: FakeClock
) -> None:
    bot = Bot(url, clock, form())
    await bot.send("handoff")
    await bot.send(CASE, zone="America/Chicago")
    assert bot.answers["reader_zone"] == "America/Chicago"
    await bot.send("US", zone="W. Europe Standard Time")
    assert bot.answers["reader_zone"] == "America/Chicago", "a Windows zone name is no zone"


def test_the_zone_is_read_from_client_info_when_the_activity_has_none() -> None:
    info = Entity(type="clientInfo")
    info.additional_properties = {"timezone": "Asia/Kolkata"}
    assert client_timezone(Activity(type="message", entities=[info])) == "Asia/Kolkata"
    assert client_timezone(Activity(type="message", local_timezone="Nowhere/Else")) is None
    said = Activity(type="message", local_timezone="Europe/Berlin", entities=[info])
    assert client_timezone(said) == "Europe/Berlin", "the activity's own zone comes first"


def test_a_reply_reads_the_action_from_the_card_or_from_the_words() -> None:
    someone = Person(id=template().from_property.id)
    assert Reply("", {"form": "notes", "action": "back"}, someone).action == "back"
    assert Reply("", {"form": "notes"}, someone).action == "next"
    assert Reply("", {"form": "notes"}, someone).form == "notes"
    assert Reply("Stop", None, someone).action == "cancel"
    assert Reply("previous", None, someone).action == "back"
    assert Reply("stop the cluster", None, someone).action == "next"
    assert Reply("stop", None, someone).form is None
