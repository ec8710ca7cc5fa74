"""The Case Transfer card's user-specific views: the refresh that names whose Teams asks for
their own copy (at most Teams' 60, picked the same way every time), each copy's own buttons
first and the rest in the overflow menu, every copy valid Adaptive Card 1.5 and within Teams'
size limit with its refresh."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cards.fit import CARD_LIMIT_BYTES, fit_card
from cards.transfer_card import handoff_card
from cards.user_views import (
    MAX_REFRESH_USERS,
    PRIMARY_VERBS,
    REFRESH_VERB,
    refresh_block,
    refresh_users,
)
from handoff.access import VIEWER_VERBS, Viewer
from handoff.models import AuditEvent, Handoff, HandoffNotes, Severity
from handoff.request import new_handoff
from handoff.state_machine import RequestMoreInfo, apply, request_event

from harness import records
from harness.card_schema import assert_valid_card
from harness.handoff_flow import CASE, RECEIVER, person
from harness.ids import DEFAULT_USER

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
REQUESTER = person(DEFAULT_USER)
TAKER = person(RECEIVER)
# A Teams user id as long as real ones get (the sample in Microsoft's docs is 110 characters).
LONG_MRI = "29:1" + "bSnHZ7Js2STWrgk6ScEErLk1Lp2zQuD5H2qQ960rtvstKp8tKLl-3r8b6DoW0QxZimuTxk_kupZ1"


def requested(notes: HandoffNotes | None = None) -> Handoff:
    answers = records.answers(CASE, "EMEA", "US", severity=Severity.A, is_24x7=True, notes=notes)
    return new_handoff(answers, records.PLACEHOLDER_OUTPUTS, REQUESTER, T0)


def asked(handoff: Handoff) -> Handoff:
    return apply(handoff, RequestMoreInfo(actor=TAKER, question="Which logs?"), T0).handoff


def placement(content: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The card's buttons (titles): those shown as buttons, and those in the overflow menu."""
    actions = content.get("actions", [])
    shown = [a["title"] for a in actions if a.get("mode", "primary") == "primary"]
    menu = [a["title"] for a in actions if a.get("mode") == "secondary"]
    return shown, menu


def test_the_refresh_names_the_people_in_the_order_given_and_stops_at_sixty() -> None:
    people = [f"29:person-{n:03d}" for n in range(75)]
    # The handoff's own people come first; a person named twice counts once.
    chosen = refresh_users(["29:requester", "29:owner", "29:requester", "", *people])
    assert len(chosen.ids) == MAX_REFRESH_USERS == 60
    assert chosen.ids[:3] == ("29:requester", "29:owner", "29:person-000")
    assert chosen.left_out == tuple(people[58:]), "the last ones given are left out"
    assert refresh_users(["29:requester", "29:owner", "29:requester", "", *people]) == chosen
    assert refresh_users(["29:a", "29:b"]).left_out == ()


def test_the_refresh_acts_on_the_handoff_and_version_the_buttons_do() -> None:
    handoff = asked(requested())
    content = handoff_card(handoff, refresh_users=["29:a", "29:b"])
    assert_valid_card(content)
    refresh = content["refresh"]
    assert refresh["userIds"] == ["29:a", "29:b"]
    assert refresh["action"] == {
        "type": "Action.Execute",
        "verb": REFRESH_VERB,
        "data": {"handoff_id": handoff.id, "version": handoff.version},
    }
    [accept] = [a for a in content["actions"] if a["title"] == "Accept"]
    assert refresh["action"]["data"] == accept["data"]
    # Never more ids than Teams takes, whatever the caller passes.
    assert len(refresh_block(handoff, [f"29:{n}" for n in range(99)])["userIds"]) == 60
    # Without people to name, no refresh: a personal copy, a status card.
    assert "refresh" not in handoff_card(handoff)


@pytest.mark.parametrize(
    ("viewer", "shown", "menu"),
    [
        (Viewer.TEAM, ["Accept", "Need more info"], ["Escalate to SME", "Long-running"]),
        (
            Viewer.REQUESTER,
            ["Back to queue", "Cancel"],
            ["Escalate to SME", "Long-running"],
        ),
        (
            Viewer.LEAD,
            ["Back to queue", "Escalate to SME"],
            ["Accept", "Need more info", "Long-running"],
        ),
        (Viewer.RECEIVER, ["Accept"], ["Need more info", "Escalate to SME", "Long-running"]),
    ],
)
def test_each_copy_shows_its_own_buttons_and_the_rest_in_the_menu(
    viewer: Viewer, shown: list[str], menu: list[str]
) -> None:
    content = handoff_card(requested(), viewer=viewer)
    assert_valid_card(content)
    assert placement(content) == (shown, menu)


def test_the_requester_answers_the_question_from_their_own_copy() -> None:
    handoff = asked(requested())
    mine = handoff_card(handoff, viewer=Viewer.REQUESTER)
    assert_valid_card(mine)
    assert placement(mine) == (
        ["Answer the question", "Back to queue", "Cancel"],
        ["Escalate to SME", "Long-running"],
    )
    [answer] = [a for a in mine["actions"] if a["title"] == "Answer the question"]
    [box] = answer["card"]["body"]
    [send] = answer["card"]["actions"]
    assert box["id"] == "answer" and box["isRequired"]
    assert send["verb"] == "provide_info" and send["data"]["version"] == handoff.version
    assert send["fallback"]["data"] == {"verb": "provide_info", **send["data"]}
    # Nobody else's copy offers it.
    for viewer in (Viewer.TEAM, Viewer.LEAD, Viewer.RECEIVER):
        titles = [a["title"] for a in handoff_card(handoff, viewer=viewer)["actions"]]
        assert "Answer the question" not in titles


def test_every_own_button_is_one_the_copy_offers() -> None:
    """The primary buttons of a copy are among the verbs its reader may press."""
    for viewer, verbs in PRIMARY_VERBS.items():
        assert verbs <= VIEWER_VERBS[viewer], viewer


def test_an_action_execute_in_the_menu_keeps_its_submit_fallback() -> None:
    content = handoff_card(requested(), viewer=Viewer.TEAM)
    [escalate] = [a for a in content["actions"] if a["title"] == "Escalate to SME"]
    assert escalate["mode"] == "secondary" and escalate["type"] == "Action.Execute"
    assert escalate["fallback"] == {
        "type": "Action.Submit",
        "title": "Escalate to SME",
        "data": {"verb": "escalate", **escalate["data"]},
    }
    assert "mode" not in escalate["fallback"], "the fallback is for clients before 1.5"


def test_the_largest_card_with_sixty_long_ids_fits_and_keeps_its_refresh() -> None:
    """Everything a card shows at its longest, the history full, and sixty Teams ids as long
    as real ones: still within Teams' limit, with the refresh whole."""
    notes = HandoffNotes(
        summary="s" * 4000,
        next_steps_us=tuple("u" * 500 for _ in range(20)),
        next_steps_customer=tuple("c" * 500 for _ in range(20)),
    )
    handoff = asked(requested(notes))
    history: list[AuditEvent] = [request_event(handoff)] * 40
    users = [f"{LONG_MRI}{n:03d}" for n in range(MAX_REFRESH_USERS)]
    for viewer in Viewer:
        content = handoff_card(handoff, history=history, viewer=viewer, refresh_users=users)
        assert_valid_card(content)
        fitted = fit_card(content)
        assert fitted.size <= CARD_LIMIT_BYTES
        assert fitted.content["refresh"] == content["refresh"]
        assert fitted.content["refresh"]["userIds"] == users
        assert fitted.content.get("actions") == content.get("actions")


def test_a_card_cut_to_its_short_form_keeps_its_refresh() -> None:
    """Past what clipping can save (cards/fit.py's short card), the refresh stays: the people
    it names still get their own copy, of the card as Teams can take it."""
    handoff = requested()
    content = handoff_card(handoff, refresh_users=["29:a"])
    content["body"] = content["body"] + [{"type": "TextBlock", "text": "x"}] * 4000
    fitted = fit_card(content)
    assert "the card's details" in fitted.left_out
    assert fitted.content["refresh"] == content["refresh"]
    assert fitted.size <= CARD_LIMIT_BYTES
