"""The seed 000 notes template, rendered and read back (R-NOTES)."""

import datetime as dt

import pytest

from handoff.models import (
    Case,
    Checklist,
    HandoffNotes,
    NextContact,
    PendingOn,
    Severity,
    StepTried,
    SupportPlan,
)
from handoff.notes.parser import parse_notes
from handoff.notes.template import ASKED_FIELDS, format_in_zone, render_notes

CASE = Case(
    number="123456789012",
    severity=Severity.A,
    is_24x7=True,
    plan=SupportPlan.PREMIER,
    product_skill="Data Pipelines",
    customer_region="EMEA",
    customer_timezone="Europe/Berlin",
)

FULL = HandoffNotes(
    summary="Nightly load fails with a gateway timeout.\nRaised the timeout; copy step now fails.",
    reason="Customer needs support in US hours while the load runs",
    issue="Nightly load to the warehouse fails since Monday",
    steps_tried=(
        StepTried(step="Raised the gateway timeout", outcome="Copy step fails instead"),
        StepTried(step="Ran the pipeline from a test VM", outcome="Same timeout"),
    ),
    next_steps_customer=("Upload the firewall logs", "Confirm the maintenance window"),
    next_steps_us=("US SE: review the firewall logs", "We will reproduce in a lab"),
    icm_or_partner_ticket="ICM-000001",
    research=("https://example.invalid/kb/gateway-timeouts", "gateway-trace.zip"),
    checklist=Checklist(
        customer_reachable=True,
        waiting_for_rca=False,
        accepts_english=True,
        pending_on=PendingOn.CUSTOMER,
        icm_id="ICM-000001",
        critsit_reason="Production loads blocked",
    ),
    next_customer_contact=NextContact(
        at=dt.datetime(2026, 6, 3, 7, 0, tzinfo=dt.UTC), who_waits="Customer waits for our analysis"
    ),
    root_cause="Idle connections dropped by the firewall (suspected)",
    blockers="Firewall change needs customer CAB approval",
    sla_urgency="Next update due within 1 hour",
)

EXPECTED_FULL_TEXT = """\
Summary
=============
Nightly load fails with a gateway timeout.
Raised the timeout; copy step now fails.

Why It Needs a Handoff
=============
Customer needs support in US hours while the load runs

Issue
=============
Nightly load to the warehouse fails since Monday

Steps Tried:
=============
1. Raised the gateway timeout -> Outcome: Copy step fails instead
2. Ran the pipeline from a test VM -> Outcome: Same timeout

Root Cause
=============
Idle connections dropped by the firewall (suspected)

Current Status
=============
In progress

Next Steps:
=============

Cx:
1. Upload the firewall logs
2. Confirm the maintenance window

MSFT:
1. US SE: review the firewall logs
2. We will reproduce in a lab

Next Customer Contact:
=============
When: Wed 2026-06-03 09:00 CEST (UTC+02:00, Europe/Berlin)
Who waits for whom: Customer waits for our analysis

Blockers / Approvals
=============
Firewall change needs customer CAB approval

ICM or Partner Ticket
=============
ICM-000001

Research:
=============

- https://example.invalid/kb/gateway-timeouts
- gateway-trace.zip

Ticket's checklist
=============

Customer Reachable?: Yes
Waiting for RCA?: No
Customer accept English Support?: Yes
Now the issue is pending on?: customer
IcM ID?: ICM-000001
Reason for Critsit: Production loads blocked

SLA Urgency
=============
Next update due within 1 hour
"""


def test_render_full_notes_exactly() -> None:
    assert render_notes(FULL, CASE, zone_name="Europe/Berlin") == EXPECTED_FULL_TEXT


def test_seed_sections_come_in_seed_order_with_seed_wording() -> None:
    text = render_notes(FULL, CASE, zone_name="Europe/Berlin")
    headings = [
        "Summary\n",
        "Next Steps:\n",
        "Cx:\n",
        "MSFT:\n",
        "ICM or Partner Ticket\n",
        "Research:\n",
        "Ticket's checklist\n",
    ]
    positions = [text.index(heading) for heading in headings]
    assert positions == sorted(positions)


def test_minimal_notes_keep_template_sections_and_drop_optional_ones() -> None:
    text = render_notes(HandoffNotes(summary="Short one"), CASE, zone_name="Etc/UTC")
    assert "ICM or Partner Ticket" not in text
    assert "Steps Tried" not in text
    assert "Next Customer Contact" not in text
    for heading in ("Summary", "Next Steps:", "Cx:", "MSFT:", "Research:", "Ticket's checklist"):
        assert heading in text
    assert "Customer Reachable?:\n" in text


def test_pending_on_falls_back_to_case() -> None:
    case = CASE.model_copy(update={"pending_on": PendingOn.PG})
    text = render_notes(HandoffNotes(summary="x"), case, zone_name="Etc/UTC")
    assert "Now the issue is pending on?: PG\n" in text


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Singapore", "America/Los_Angeles"])
def test_round_trip_recovers_every_field(zone: str) -> None:
    parsed = parse_notes(render_notes(FULL, CASE, zone_name=zone))
    assert parsed.missing == ()
    assert parsed.to_notes() == FULL


def test_round_trip_of_partial_notes_lists_the_rest_as_missing() -> None:
    partial = HandoffNotes(summary="Only a summary here", next_steps_us=("We will call",))
    parsed = parse_notes(render_notes(partial, CASE, zone_name="Etc/UTC"))
    assert parsed.to_notes() == partial
    assert set(parsed.missing) == set(ASKED_FIELDS) - {"summary", "next_steps_us"}


def test_format_in_zone_refuses_naive_time() -> None:
    with pytest.raises(ValueError, match="time zone"):
        format_in_zone(dt.datetime(2026, 6, 3, 9, 0), "Europe/Berlin")


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC"])
def test_a_time_in_utc_itself_says_utc_once_and_reads_back(zone: str) -> None:
    at = dt.datetime(2026, 12, 3, 16, 30, tzinfo=dt.UTC)
    shown = format_in_zone(at, zone)
    assert shown == "Thu 2026-12-03 16:30 UTC"
    # London at UTC+0 in winter keeps its name: it is not UTC all year.
    assert format_in_zone(at, "Europe/London") == (
        "Thu 2026-12-03 16:30 GMT (UTC+00:00, Europe/London)"
    )
    notes = HandoffNotes(summary="s", next_customer_contact=NextContact(at=at, who_waits="We wait"))
    text = render_notes(notes, CASE, zone_name=zone)
    parsed = parse_notes(text, zone_name="America/Chicago").to_notes()
    assert parsed.next_customer_contact is not None
    assert parsed.next_customer_contact.at == at, "read as UTC, not in the customer's zone"
