"""The Case Transfer card as each reader gets it: the buttons that reader may press, the
version they act on, who is mentioned, and the history and lists cut to what a card holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cards.elements import ELLIPSIS
from cards.transfer_card import (
    MAX_HISTORY_SHOWN,
    MAX_LISTED,
    SHOWN_CHARS,
    answer_card,
    handoff_card,
    handoff_list_card,
    handoff_summary,
    local_time,
    offered_verbs,
    shift_end_card,
    viewer_verbs,
)
from handoff.access import Viewer
from handoff.models import AuditEvent, Handoff, Severity
from handoff.request import new_handoff
from handoff.state_machine import Accept, ProvideInfo, RequestMoreInfo, apply, request_event

from harness import records
from harness.card_schema import assert_valid_card
from harness.chat import all_text
from harness.handoff_flow import CASE, RECEIVER, person
from harness.ids import DEFAULT_USER
from harness.team import LEAD

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
REQUESTER = person(DEFAULT_USER)
TAKER = person(RECEIVER)


def requested(
    number: str = CASE, *, severity: Severity = Severity.A, is_24x7: bool = True
) -> Handoff:
    answers = records.answers(number, "EMEA", "US", severity=severity, is_24x7=is_24x7)
    return new_handoff(answers, records.PLACEHOLDER_OUTPUTS, REQUESTER, T0)


def titles(content: dict[str, Any]) -> list[str]:
    return [str(action["title"]) for action in content.get("actions", [])]


def button(content: dict[str, Any], title: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [a for a in content["actions"] if a["title"] == title]
    [action] = found
    return action


def test_each_reader_gets_only_the_buttons_they_may_press() -> None:
    handoff = requested()
    team = handoff_card(handoff, viewer=Viewer.TEAM)
    mine = handoff_card(handoff, viewer=Viewer.REQUESTER)
    lead = handoff_card(handoff, viewer=Viewer.LEAD)
    for content in (team, mine, lead):
        assert_valid_card(content)
    assert titles(team) == ["Accept", "Need more info", "Escalate to SME", "Long-running"]
    # The requester cannot take their own handoff nor ask themselves; Cancel is theirs alone.
    assert titles(mine) == ["Back to queue", "Escalate to SME", "Cancel", "Long-running"]
    assert titles(lead) == [
        "Accept",
        "Need more info",
        "Back to queue",
        "Escalate to SME",
        "Long-running",
    ]


def test_an_accepted_handoff_offers_no_moves_and_names_its_owner() -> None:
    accepted = apply(requested(), Accept(actor=TAKER), T0 + timedelta(minutes=5)).handoff
    for viewer in Viewer:
        # Taken, it can still be flagged long-running (a 24x7 Sev A case), nothing else.
        assert titles(handoff_card(accepted, viewer=viewer)) == ["Long-running"]
    sev_c = requested(severity=Severity.C)
    taken_c = apply(sev_c, Accept(actor=TAKER), T0 + timedelta(minutes=5)).handoff
    assert "actions" not in handoff_card(taken_c, viewer=Viewer.LEAD)
    shown = all_text(handoff_card(accepted))
    assert f"Accepted by {TAKER.name} · {local_time(T0 + timedelta(minutes=5))}" in shown
    assert handoff_summary(accepted) == (
        f"Case {CASE} · Sev A · 24x7 · EMEA → US: accepted by {TAKER.name}"
    )


def test_only_a_sev_a_or_b_24x7_case_offers_long_running() -> None:
    assert "long_running" in viewer_verbs(requested(), Viewer.TEAM)
    sev_c = requested(severity=Severity.C, is_24x7=True)
    office_hours = requested(severity=Severity.B, is_24x7=False)
    assert "long_running" not in viewer_verbs(sev_c, Viewer.TEAM)
    assert "long_running" not in viewer_verbs(office_hours, Viewer.TEAM)
    flagged = requested().model_copy(update={"long_running": "flagged: two time zones"})
    assert "Long-running" not in titles(handoff_card(flagged, viewer=Viewer.LEAD))
    assert "Long-running case: flagged: two time zones" in all_text(handoff_card(flagged))


def test_a_button_acts_on_the_version_shown_and_works_without_universal_actions() -> None:
    handoff = requested()
    accept = button(handoff_card(handoff), "Accept")
    assert accept["type"] == "Action.Execute"
    assert accept["data"] == {"handoff_id": handoff.id, "version": handoff.version}
    assert accept["fallback"]["type"] == "Action.Submit"
    assert accept["fallback"]["data"] == {"verb": "accept", **accept["data"]}
    later = apply(handoff, RequestMoreInfo(actor=TAKER, question="Logs?"), T0).handoff
    again = button(handoff_card(later), "Accept")
    assert again["data"]["version"] == later.version != handoff.version


def test_a_button_that_needs_words_first_opens_a_required_box() -> None:
    handoff = requested()
    more_info = button(handoff_card(handoff), "Need more info")
    assert more_info["type"] == "Action.ShowCard"
    [box] = more_info["card"]["body"]
    assert (box["id"], box["isRequired"]) == ("question", True)
    [send] = more_info["card"]["actions"]
    assert (send["verb"], send["data"]["version"]) == ("more_info", handoff.version)


def test_someone_it_was_not_meant_for_confirms_taking_it_instead() -> None:
    content = handoff_card(requested(), instead_of=f"{LEAD.name} <at>x</at>")
    take = button(content, f"Take it instead of {LEAD.name} \u2039at>x\u2039/at>")
    assert take["data"]["instead"] is True
    assert take["verb"] == "accept"
    assert "Accept" not in titles(content)


def test_the_requester_and_the_named_engineer_are_mentioned_and_names_are_text() -> None:
    spoofing = REQUESTER.model_copy(update={"name": f"<at>{LEAD.name}</at>"})
    handoff = requested().model_copy(
        update={"requester": spoofing, "target_engineer": TAKER.model_copy()}
    )
    content = handoff_card(handoff)
    entities = content["msteams"]["entities"]
    assert [e["mentioned"]["id"] for e in entities] == [spoofing.id, TAKER.id]
    shown = all_text(content)
    for entity in entities:
        assert entity["text"] in shown, "every mention tag shown has its entity"
    # A name that looks like a mention is shown inside the bot's one mention tag, as text.
    assert entities[0]["text"].count("<at>") == 1


def test_long_texts_are_cut_to_what_the_card_shows() -> None:
    reason = "Customer works from two offices. " * 60
    handoff = requested().model_copy(update={"reason": reason[:2000]})
    [fact] = [
        f
        for item in handoff_card(handoff)["body"]
        if item["type"] == "FactSet"
        for f in item["facts"]
        if f["title"] == "Reason"
    ]
    assert len(fact["value"]) == SHOWN_CHARS["reason"]
    assert fact["value"].endswith(ELLIPSIS)


def test_the_history_shows_the_latest_steps_and_counts_the_earlier_ones() -> None:
    handoff = requested()
    events: list[AuditEvent] = [request_event(handoff)]
    at = T0
    for n in range(4):
        at += timedelta(minutes=10)
        asked = apply(handoff, RequestMoreInfo(actor=TAKER, question=f"Question {n}?"), at)
        answered = apply(asked.handoff, ProvideInfo(actor=REQUESTER, answer=f"Answer {n}"), at)
        events += [*asked.events, *answered.events]
        handoff = answered.handoff
    taken = apply(handoff, Accept(actor=TAKER, instead_of=LEAD.name), at)
    events += taken.events
    shown = all_text(handoff_card(taken.handoff, history=events))
    earlier = len(events) - MAX_HISTORY_SHOWN
    assert f"{ELLIPSIS} {earlier} more earlier steps" in shown
    assert "Question 0?" not in shown, "the first steps are counted, not shown"
    assert f"{TAKER.name} · asked for more information: Question 3?" in shown
    assert f"{REQUESTER.name} · answered: Answer 3" in shown
    assert f"{TAKER.name} · took it instead of {LEAD.name}" in shown


def test_a_question_waiting_for_an_answer_can_be_answered_from_the_requesters_chat() -> None:
    asked = apply(requested(), RequestMoreInfo(actor=TAKER, question="Which [logs](x)?"), T0)
    handoff = asked.handoff.model_copy(update={"open_question": "Which [logs](x)?"})
    assert "provide_info" in offered_verbs(handoff)
    assert "provide_info" not in offered_verbs(requested())
    content = answer_card(handoff)
    assert_valid_card(content)
    [send] = content["actions"]
    assert send["data"] == {
        "verb": "provide_info",
        "handoff_id": handoff.id,
        "version": handoff.version,
    }
    assert "](" not in all_text(content)


def test_a_list_shows_the_first_handoffs_and_counts_them_all() -> None:
    many = [requested(f"23112300400{n:05d}") for n in range(MAX_LISTED + 3)]
    content = handoff_list_card("Open handoffs", many, "No open handoffs.")
    assert_valid_card(content)
    shown = all_text(content)
    assert f"**{many[MAX_LISTED - 1].case.number}**" in shown
    assert f"**{many[MAX_LISTED].case.number}**" not in shown
    assert f"{ELLIPSIS} 3 more handoffs not shown" in shown
    assert content["speak"] == f"Open handoffs: {MAX_LISTED + 3} handoffs"
    assert handoff_list_card("Open", many[:1], "x")["speak"] == "Open: 1 handoff"
    empty = handoff_list_card("Open", [], "No open handoffs.")
    assert "No open handoffs." in all_text(empty)
    assert empty["speak"] == "Open: none"


def test_the_shift_end_card_starts_each_critical_cases_handoff() -> None:
    cases = [requested(f"23112300400{n:05d}") for n in range(MAX_LISTED + 1)]
    content = shift_end_card(cases, T0 + timedelta(hours=1))
    assert_valid_card(content)
    assert len(content["actions"]) == MAX_LISTED
    first = content["actions"][0]
    number = cases[0].case.number
    assert first["title"] == f"Start handoff {number}"
    assert first["data"]["msteams"] == {"type": "messageBack", "text": f"handoff {number}"}
    assert f"{ELLIPSIS} 1 more critical case: type **mine** for all" in all_text(content)


def test_times_are_left_for_teams_to_show_in_the_readers_zone() -> None:
    at = datetime(2026, 11, 24, 11, 30, tzinfo=UTC)
    assert local_time(at) == "{{DATE(2026-11-24T11:30:00Z, SHORT)}} {{TIME(2026-11-24T11:30:00Z)}}"
    # The state line says since when the handoff is in its state, in the reader's zone.
    assert f"Requested · {local_time(T0)}" in all_text(handoff_card(requested()))
