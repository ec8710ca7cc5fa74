"""The reminder of the customer's next contact and the overdue line (cards/commitment_card.py),
as a reader sees them: the promise, the time in the reader's zone and the customer's, each zone
named; and the line on the Case Transfer card and in the lists once the time has passed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cards.commitment_card import commitment_card, overdue_text
from cards.transfer_card import handoff_card, handoff_list_card
from handoff.access import Viewer
from handoff.models import Handoff, HandoffNotes, NextContact
from handoff.request import new_handoff
from handoff.state_machine import Accept, apply

from harness import records
from harness.card_schema import assert_valid_card
from harness.handoff_flow import CASE, RECEIVER, person
from harness.ids import DEFAULT_USER
from harness.plain_words import visible_strings

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
# Wednesday 09:00 in Chicago (UTC-6 in November).
CONTACT = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
REQUESTER = person(DEFAULT_USER)
TAKER = person(RECEIVER)
OVERDUE = "Next customer contact overdue since Wed Nov 25, 2026, 9:00 AM CST (America/Chicago)"


def all_text(content: dict[str, Any]) -> str:
    """Every string the card shows: its text blocks and its facts."""
    return "\n".join(visible_strings(content))


def promising(who_waits: str = "Customer waits for our analysis of the logs") -> Handoff:
    notes = HandoffNotes(
        summary="Autoscale stops at 20 nodes since the upgrade.",
        next_steps_us=("US SE: review the autoscaler logs", "US SE: call PG", "We: x", "We: y"),
        next_customer_contact=NextContact(at=CONTACT, who_waits=who_waits),
    )
    answers = records.answers(CASE, "EMEA", "US", notes=notes)
    return new_handoff(answers, records.PLACEHOLDER_OUTPUTS, REQUESTER, T0)


def test_the_reminder_says_what_was_promised_when_for_the_reader_and_for_the_customer() -> None:
    content = commitment_card(promising(), CONTACT - timedelta(minutes=30), "Europe/Berlin")
    assert_valid_card(content)
    shown = all_text(content)
    assert f"Customer contact in 30 minutes: case {CASE}" in shown
    assert "Customer waits for our analysis of the logs" in shown
    assert "Wed Nov 25, 2026, 4:00 PM CET" in shown
    assert "Wed Nov 25, 2026, 9:00 AM CST" in shown
    assert "US (America/Chicago)" in shown
    # Our next steps, the first three.
    assert "US SE: review the autoscaler logs" in shown and "We: y" not in shown
    # Nobody took the handoff yet: the requester is told the contact is still theirs.
    assert "Nobody has taken your handoff yet" in shown
    assert content["speak"] == f"Customer contact for case {CASE} at 4:00 PM (Europe/Berlin)"
    [show] = content["actions"]
    assert show["data"] == {"msteams": {"type": "messageBack", "text": f"status {CASE}"}}


def test_the_new_owner_is_not_told_the_handoff_waits_and_a_zone_not_theirs_is_explained() -> None:
    taken = apply(promising(), Accept(actor=TAKER), T0).handoff
    note = "Times for you are in America/Los_Angeles, the US shift's zone: …"
    content = commitment_card(taken, CONTACT - timedelta(minutes=45), "America/Los_Angeles", note)
    assert_valid_card(content)
    shown = all_text(content)
    assert "Nobody has taken" not in shown
    assert note in shown
    assert "Customer contact in 45 minutes" in shown
    assert "Wed Nov 25, 2026, 7:00 AM PST" in shown


def test_sent_after_the_time_the_reminder_says_overdue() -> None:
    content = commitment_card(promising(), CONTACT + timedelta(minutes=20), "Etc/UTC")
    assert_valid_card(content)
    shown = all_text(content)
    assert f"Customer contact overdue by 20 minutes: case {CASE}" in shown
    assert "Wed Nov 25, 2026, 3:00 PM UTC" in shown


def test_the_customers_words_stay_text() -> None:
    content = commitment_card(
        promising("<at>Team Lead</at> waits [here](https://x.example)"), T0, "Etc/UTC"
    )
    shown = all_text(content)
    assert "<at>" not in shown and "](https" not in shown


def test_a_handoff_without_a_next_contact_has_no_reminder_card() -> None:
    unpromised = promising().model_copy(update={"notes": HandoffNotes(summary="s")})
    with pytest.raises(ValueError, match="nothing to remind"):
        commitment_card(unpromised, T0, "Etc/UTC")


def test_the_case_transfer_card_says_overdue_in_the_customers_zone_once_the_time_passed() -> None:
    handoff = promising()
    assert overdue_text(handoff, CONTACT) == OVERDUE
    late = handoff_card(handoff, now=CONTACT + timedelta(minutes=1))
    assert_valid_card(late)
    assert OVERDUE in all_text(late)
    for viewer in Viewer:
        assert OVERDUE in all_text(handoff_card(handoff, viewer=viewer, now=CONTACT))
    assert OVERDUE not in all_text(handoff_card(handoff, now=CONTACT - timedelta(seconds=1)))
    # A caller that gives no time shows no line (it cannot tell).
    assert OVERDUE not in all_text(handoff_card(handoff))
    taken = apply(handoff, Accept(actor=TAKER), T0).handoff
    assert OVERDUE not in all_text(handoff_card(taken, now=CONTACT + timedelta(hours=1)))


def test_the_lists_flag_each_overdue_handoff_on_its_own() -> None:
    late = promising()
    on_time = late.model_copy(
        update={
            "id": "other",
            "notes": late.notes.model_copy(
                update={
                    "next_customer_contact": NextContact(
                        at=CONTACT + timedelta(days=1), who_waits="Customer waits for us"
                    )
                }
            ),
        }
    )
    content = handoff_list_card("Mine", [late, on_time], "None", now=CONTACT + timedelta(hours=2))
    assert_valid_card(content)
    assert all_text(content).count("overdue since") == 1
    assert "overdue" not in all_text(handoff_list_card("Mine", [late, on_time], "None"))
