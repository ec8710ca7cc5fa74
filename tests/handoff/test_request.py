"""What a handoff request produces from the engineer's answers (R-NOTES, R-CUSTOMER)."""

import datetime as dt

from handoff.flowchart import NextStep, NextStepKind
from handoff.models import (
    Case,
    CaseStatus,
    HandoffNotes,
    NextContact,
    Severity,
    StepTried,
    SupportPlan,
)
from handoff.notes.parser import parse_notes
from handoff.request import HandoffAnswers, Queue, compose_outputs

QUEUE = Queue("dm-queue@example.invalid", "Big Data DM, please reassign")
STEP = NextStep(NextStepKind.ATTEND_MEETING, "Attend the handoff meeting.", ())

CASE = Case(
    number="2311230040001234",
    severity=Severity.B,
    is_24x7=False,
    plan=SupportPlan.PROFESSIONAL,
    product_skill="Synapse SQL",
    customer_region="APAC",
    customer_timezone="Asia/Tokyo",
    status=CaseStatus.WAITING_ON_CUSTOMER,
    title="Slow queries after index rebuild",
    language_needs="Customer prefers Japanese",
)
NOTES = HandoffNotes(
    summary=(
        "Queries on the sales pool run 5x slower since the index rebuild; we updated the "
        "statistics, which helped only 10%, so we suspect the new index layout."
    ),
    steps_tried=(StepTried(step="Updated statistics", outcome="10% faster, still slow"),),
    next_steps_customer=("Send the query plans of the three slowest queries",),
    next_steps_us=("APAC SE: compare the plans with the baseline",),
    next_customer_contact=NextContact(
        at=dt.datetime(2026, 11, 25, 1, 0, tzinfo=dt.UTC), who_waits="We wait for the customer"
    ),
)


def answers(**changes: object) -> HandoffAnswers:
    values: dict[str, object] = {
        "case": CASE,
        "owner_region": "EMEA",
        "target_region": "APAC",
        "kind_choice": "between",
        "reason": "Customer needs support in a time zone the owner cannot serve",
        "notes": NOTES,
    }
    values.update(changes)
    return HandoffAnswers(**values)  # type: ignore[arg-type]


def test_the_notes_text_says_where_the_case_goes_why_its_language_and_status() -> None:
    text = compose_outputs(answers(), STEP, QUEUE).notes_text
    assert "Pass To\n=============\nAPAC\n" in text
    assert (
        "Reason for Handoff\n=============\n"
        "Customer needs support in a time zone the owner cannot serve\n"
    ) in text
    assert "Language Needs\n=============\nCustomer prefers Japanese\n" in text
    assert "Current Status\n=============\nWaiting on customer\n" in text
    # Seed 001's order: where it goes and why, before the issue and what was tried.
    assert text.index("Pass To") < text.index("Reason for Handoff") < text.index("Steps Tried")


def test_what_the_bot_writes_in_the_notes_is_read_back_when_pasted() -> None:
    outputs = compose_outputs(answers(), STEP, QUEUE)
    parsed = parse_notes(outputs.notes_text)
    assert parsed.to_notes() == NOTES
    assert parsed.pass_to == "APAC"
    assert parsed.handoff_reason == "Customer needs support in a time zone the owner cannot serve"
    assert parsed.language_needs == "Customer prefers Japanese"
    assert parsed.status is CaseStatus.WAITING_ON_CUSTOMER


def test_the_customer_is_promised_only_the_next_contact_entered() -> None:
    entered = compose_outputs(answers(), STEP, QUEUE).customer_message
    assert "Our next update will reach you by Wed Nov 25, 2026, 10:00 AM JST" in entered
    none = answers(notes=NOTES.model_copy(update={"next_customer_contact": None}))
    draft = compose_outputs(none, STEP, QUEUE).customer_message
    assert "next update" not in draft
    assert "The new engineer will be in touch with you." in draft


def test_a_named_engineer_is_shown_to_the_customer_by_name_never_by_address() -> None:
    named = answers(target_engineer="kim@example.invalid", target_engineer_name="Kim Sato")
    assert "Kim Sato will continue working on your case" in (
        compose_outputs(named, STEP, QUEUE).customer_message
    )
    for name in ("", "kim@example.invalid"):
        unnamed = answers(target_engineer="kim@example.invalid", target_engineer_name=name)
        draft = compose_outputs(unnamed, STEP, QUEUE).customer_message
        assert "A colleague from our APAC team will continue working on your case" in draft
        assert "@" not in draft
    assert "Our APAC support engineer will continue" in (
        compose_outputs(answers(), STEP, QUEUE).customer_message
    )
