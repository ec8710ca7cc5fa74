""" "Hand off this case" as a use case, over a real SQLite file: the dialog Teams shows first,
the handoff opened through the outbox (one OPEN_HANDOFF item in the person's chat lane, with the
case, the message's text and the client's zone), what a stranger and a person without a chat
with the bot are told, and the outbox step that begins the dialog in the personal chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import i18n
from application import messages
from application.compose.hand_off import (
    MAX_MESSAGE_CHARS,
    HandoffDraft,
    OpenHandoffStep,
    no_personal_chat,
    noted,
    opened,
)
from application.request import Card
from handoff import access, effects
from handoff.effects import OutboxKind
from handoff.ports import OutboxItem, OutboxState
from handoff.user_settings import UserSettings
from outbox.failures import PermanentFailure

from harness import records
from harness.chat import all_text, teams_values
from harness.ids import DEFAULT_CHANNEL_ID, DEFAULT_TEAM_ID
from harness.scenario import (
    ANA,
    BO,
    MONDAY_MORNING,
    STRANGER,
    Scenario,
    open_scenario,
    process_with,
)

CASE = "2311230040009999"
TEMPLATE = "https://support.example.com/cases/{case}"
NOTES = """Summary: Autoscale stops at 20 nodes since the upgrade.
Steps tried:
- Raised the core quota -> same failure
Next steps:
MSFT:
- US SE: ask PG for the quota service logs"""


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    process = process_with(
        tmp_path,
        case_transfer={"team_id": DEFAULT_TEAM_ID, "channel_id": DEFAULT_CHANNEL_ID},
        case_system={"url_template": TEMPLATE},
    )
    async for opened_scenario in open_scenario(tmp_path, process):
        opened_scenario.join(ANA)
        await opened_scenario.reachable(ANA)
        yield opened_scenario


def test_what_the_message_fills_in_is_named_as_the_notes_form_names_it() -> None:
    assert noted(NOTES) == ["Summary", "Steps tried", "Next steps for us"]
    assert noted("Could US take it?") == []


def test_the_answer_says_where_to_carry_on_and_what_came_from_the_message() -> None:
    assert opened(CASE, ["Summary"]) == (
        f"I opened the handoff of case {CASE} in our personal chat, with its notes (Summary) "
        "from the message: carry on there."
    )
    assert "its text as the summary" in opened(None, [])
    assert "names no case number" in opened(None, [])


async def test_the_dialog_names_the_case_the_message_names(scenario: Scenario) -> None:
    hand_off = scenario.use_cases.hand_off
    for text in (f"Case {CASE}\n{NOTES}", f"See {TEMPLATE.format(case=CASE)}).\n{NOTES}"):
        said = await hand_off.ask(scenario.request(ANA), text)
        assert isinstance(said, Card)
        assert teams_values(said.content) == {"case": CASE}
        assert "Summary, Steps tried, and Next steps for us" in all_text(said.content)


async def test_opening_it_queues_the_dialog_in_the_persons_chat(scenario: Scenario) -> None:
    request = scenario.request(ANA, client_zone="Europe/Berlin")
    said = await scenario.use_cases.hand_off.open(request, f"Case {CASE}\n{NOTES}")
    assert said == opened(CASE, ["Summary", "Steps tried", "Next steps for us"])
    [item] = await scenario.queued(OutboxKind.OPEN_HANDOFF)
    assert item.lane == effects.chat_lane(ANA)
    assert item.payload["case"] == CASE and item.payload["zone"] == "Europe/Berlin"
    assert item.payload["text"].endswith("quota service logs")
    assert scenario.woken == 1
    draft = HandoffDraft.of(item.payload)
    assert draft.key and item.dedupe_key == f"open_handoff:{draft.key}"
    assert draft == HandoffDraft(ANA, CASE, f"Case {CASE}\n{NOTES}", "Europe/Berlin", draft.key)


async def test_a_typed_case_number_wins_over_the_message(scenario: Scenario) -> None:
    await scenario.use_cases.hand_off.open(scenario.request(ANA), f"Case {CASE}", "2311-2300-1111")
    [item] = await scenario.queued(OutboxKind.OPEN_HANDOFF)
    assert item.payload["case"] == "231123001111"


async def test_no_case_number_opens_it_all_the_same(scenario: Scenario) -> None:
    said = await scenario.use_cases.hand_off.open(scenario.request(ANA), NOTES, "  ")
    assert isinstance(said, str) and "names no case number" in said
    [item] = await scenario.queued(OutboxKind.OPEN_HANDOFF)
    assert item.payload["case"] == ""
    assert HandoffDraft.of(item.payload).case is None


async def test_a_mistyped_number_shows_the_dialog_again_and_opens_nothing(
    scenario: Scenario,
) -> None:
    said = await scenario.use_cases.hand_off.open(scenario.request(ANA), NOTES, "12ab")
    assert isinstance(said, Card)
    assert messages.not_a_case_number("12ab") in all_text(said.content)
    assert await scenario.queued(OutboxKind.OPEN_HANDOFF) == []


async def test_a_long_message_is_cut_before_it_is_stored(scenario: Scenario) -> None:
    text = f"Case {CASE}\n" + "x" * (MAX_MESSAGE_CHARS * 2)
    await scenario.use_cases.hand_off.open(scenario.request(ANA), text)
    [item] = await scenario.queued(OutboxKind.OPEN_HANDOFF)
    assert len(item.payload["text"]) == MAX_MESSAGE_CHARS


async def test_a_stranger_is_refused_and_nothing_opened(scenario: Scenario) -> None:
    await scenario.reachable(STRANGER)
    hand_off = scenario.use_cases.hand_off
    assert await hand_off.ask(scenario.request(STRANGER), NOTES) == access.NOT_IN_TEAM_TO_REQUEST
    said = await hand_off.open(scenario.request(STRANGER), f"Case {CASE}")
    assert said == access.NOT_IN_TEAM_TO_REQUEST
    assert await scenario.queued(OutboxKind.OPEN_HANDOFF) == []


async def test_without_a_personal_chat_the_person_is_told_to_open_one(scenario: Scenario) -> None:
    scenario.join(BO)
    hand_off = scenario.use_cases.hand_off
    assert await hand_off.ask(scenario.request(BO), NOTES) == no_personal_chat()
    assert await hand_off.open(scenario.request(BO), f"Case {CASE}") == no_personal_chat()
    assert await scenario.queued(OutboxKind.OPEN_HANDOFF) == []


class Starter:
    """Records the dialogs begun (the edge's HandoffStarter sends cards to Teams)."""

    def __init__(self) -> None:
        self.started: list[tuple[dict[str, Any], HandoffDraft]] = []
        self.languages: list[str] = []

    async def start(self, reference: dict[str, Any], draft: HandoffDraft) -> None:
        self.started.append((reference, draft))
        self.languages.append(i18n.current())


def item_of(draft: HandoffDraft) -> OutboxItem:
    message = effects.open_handoff(draft.person, draft.payload(), "k", MONDAY_MORNING)
    return OutboxItem(
        id=1,
        kind=message.kind,
        payload=message.payload,
        dedupe_key=message.dedupe_key,
        state=OutboxState.PENDING,
        attempts=0,
        not_before=message.not_before,
    )


async def test_the_outbox_step_begins_the_dialog_in_the_persons_chat(scenario: Scenario) -> None:
    starter = Starter()
    step = OpenHandoffStep(scenario.store, starter)
    assert set(step.table()) == {OutboxKind.OPEN_HANDOFF}
    draft = HandoffDraft(ANA, CASE, NOTES, "Europe/Berlin")
    await step.open(item_of(draft))
    [(reference, begun)] = starter.started
    assert reference == {"conversation": {"id": f"a:{ANA.id}"}}
    assert begun == draft


async def test_the_outbox_step_gives_up_on_someone_without_a_chat(scenario: Scenario) -> None:
    starter = Starter()
    with pytest.raises(PermanentFailure, match="no personal chat with Bo Receiver"):
        await OpenHandoffStep(scenario.store, starter).open(item_of(HandoffDraft(BO, None, "")))
    assert starter.started == []


async def test_the_dialog_begins_in_the_language_the_person_chose(scenario: Scenario) -> None:
    settings = UserSettings(person=ANA, language="es")
    await scenario.store.save_user_settings(
        settings, records.said_by(ANA, settings, scenario.clock)
    )
    starter = Starter()
    await OpenHandoffStep(scenario.store, starter).open(item_of(HandoffDraft(ANA, CASE, NOTES)))
    assert starter.languages == ["es"]
