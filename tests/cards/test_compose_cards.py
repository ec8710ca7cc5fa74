"""The compose box's cards (a result's preview, the "more" line, the dialog of "Hand off this
case"), and the "Open case" button every case card gets from a case system's address."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cards.compose_cards import case_preview, hand_off_form, more_found
from cards.elements import open_case
from cards.escalation_card import approval_card
from cards.transfer_card import answer_card, handoff_card
from handoff.access import Viewer
from handoff.escalation import decide, request_escalation
from handoff.models import Handoff, HandoffNotes, Severity, StepTried
from handoff.request import new_handoff
from handoff.state_machine import Accept, RequestMoreInfo, apply

from harness import records
from harness.card_schema import assert_valid_card
from harness.chat import all_text, teams_values
from harness.handoff_flow import CASE, RECEIVER, person
from harness.ids import DEFAULT_USER
from harness.team import LEAD

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TEMPLATE = "https://support.example.com/cases/{case}"
LINK = {"type": "Action.OpenUrl", "title": "Open case", "url": TEMPLATE.format(case=CASE)}


def requested(title: str = "", **case: Any) -> Handoff:
    answers = records.answers(CASE, "EMEA", "US", **case)
    handoff = new_handoff(answers, records.PLACEHOLDER_OUTPUTS, person(DEFAULT_USER), T0)
    return handoff.model_copy(update={"case": handoff.case.model_copy(update={"title": title})})


def test_open_case_is_one_button_to_the_case_page_or_none() -> None:
    assert open_case(CASE, TEMPLATE) == [LINK]
    assert open_case(CASE, None) == []
    assert open_case(CASE, "") == []


@pytest.mark.parametrize("viewer", list(Viewer))
def test_every_copy_of_the_handoff_card_links_the_case_last(viewer: Viewer) -> None:
    card = handoff_card(requested(), viewer=viewer, case_url_template=TEMPLATE)
    assert_valid_card(card)
    assert card["actions"][-1] == LINK
    assert LINK not in handoff_card(requested(), viewer=viewer)["actions"]


def test_a_closed_handoff_keeps_only_the_link() -> None:
    # Not 24x7, so it cannot be flagged long-running either: no button is left but the link.
    not_24x7 = requested(severity=Severity.B, is_24x7=False)
    taken = apply(not_24x7, Accept(actor=person(RECEIVER)), T0).handoff
    assert handoff_card(taken, case_url_template=TEMPLATE)["actions"] == [LINK]
    assert "actions" not in handoff_card(taken)


def test_the_question_card_and_the_approval_card_link_the_case_too() -> None:
    asked = apply(requested(), RequestMoreInfo(actor=person(RECEIVER), question="Logs?"), T0)
    question = answer_card(asked.handoff, TEMPLATE)
    assert_valid_card(question)
    assert question["actions"][-1] == LINK
    notes = HandoffNotes(
        summary="Autoscale stops", steps_tried=(StepTried(step="quota", outcome="same"),)
    )
    escalation = request_escalation(notes, CASE, person(DEFAULT_USER), T0)
    pending = approval_card(escalation, case_url_template=TEMPLATE)
    assert_valid_card(pending)
    assert [a["title"] for a in pending["actions"]][-1] == "Open case"
    decided = decide(escalation, "esc_approve", person(LEAD), "", T0)
    assert approval_card(decided, case_url_template=TEMPLATE)["actions"] == [LINK]
    assert "actions" not in approval_card(decided)


def test_a_preview_says_case_severity_route_and_state_in_plain_text() -> None:
    preview = case_preview(requested("Autoscale stops at 20 nodes"))
    assert preview == {
        "title": f"Case {CASE} · Sev A · 24x7",
        "subtitle": "EMEA → US · requested",
        "text": "HDInsight · Autoscale stops at 20 nodes",
    }
    taken = apply(requested(), Accept(actor=person(RECEIVER)), T0).handoff
    assert case_preview(taken)["subtitle"] == f"EMEA → US · accepted by {RECEIVER.name}"


def test_the_more_line_says_how_many_are_shown_and_how_to_narrow() -> None:
    assert more_found(10) == {
        "title": "More handoffs match: these are the first 10",
        "text": "Type more of the case number, or more words of its title.",
    }


def test_the_hand_off_dialog_shows_the_case_and_what_the_message_gives() -> None:
    form = hand_off_form(CASE, ["Summary", "Steps tried"])
    assert_valid_card(form)
    assert teams_values(form) == {"case": CASE}
    shown = all_text(form)
    assert f"Case **{CASE}**" in shown
    assert "From the message I fill in: Summary and Steps tried." in shown
    assert form["actions"][0]["data"] == {"form": "hand_off_message"}


def test_the_hand_off_dialog_without_a_case_asks_for_it_and_says_what_to_fix() -> None:
    form = hand_off_form(None, [], ["“12ab” is not a case number"])
    assert_valid_card(form)
    assert teams_values(form) == {"case": ""}
    shown = all_text(form)
    assert "This message names no case number" in shown
    assert "“12ab” is not a case number" in shown
    assert "I fill in its text as the summary" in shown
