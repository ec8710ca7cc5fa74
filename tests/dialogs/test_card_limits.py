"""Every card the bot sends stays within Teams' message limit whatever is typed: forms filled to
each box's maxLength and asked again, the review of such notes, and a case's status and review
after 20 rounds of questions (on the real bot, through TestAdapter, on a real SQLite store)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.schema import Activity

from application.assembly import build_service
from config.process import ProcessConfig
from handoff.flowchart import NextStep, NextStepKind
from handoff.models import (
    Checklist,
    Handoff,
    HandoffNotes,
    NextContact,
    Person,
    StepTried,
)
from handoff.request import Queue, compose_outputs
from handoff.state_machine import ProvideInfo, RequestMoreInfo
from storage.sql_store import SqlStore

from conftest import FakeClock
from harness import records
from harness.card_schema import assert_valid_card
from harness.chat import CARD, Chat, all_text, cards, form_of

CASE = "2311230040001234"
# Teams refuses a bot message much above this, counting its JSON in UTF-16.
MESSAGE_LIMIT_BYTES = 28 * 1024
ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-29:ana")
BO = Person(id="29:bo", name="Bo Receiver", aad_object_id="aad-29:bo")
CRITICAL_CASE = {
    "severity": "A",
    "is_24x7": "true",
    "plan": "Premier",
    "customer_region": "US",
    "customer_timezone": "America/New_York",
    "status": "in progress",
    "owner_region": "EMEA",
}
# Notes as the form asks for them, each line one the quality check accepts; repeated until
# a box is full. Quotes and accents are in it: JSON escapes the one, UTF-16 counts the other.
GOOD_LINES: dict[str, str] = {
    "summary": (
        'Autoscale stops at 20 nodes since the "Monday" upgrade; we raised the core quota, '
        "which did not help, so we suspect the quota service. "
    ),
    "steps_tried": "Raised the core quota to 400 -> Outcome: same failure at 20 nodes, café",
    "next_steps_customer": "Upload the autoscaler logs of the last run",
    "next_steps_us": "US SE: review the autoscaler logs and compare them with the baseline",
    "research": "https://example.invalid/kb/autoscale-stops-at-twenty-nodes",
    "critsit_reason": "Production outage for all regions ",
    "justification": "The customer moves the nightly load to US hours next week ",
}
NOTES_CHOICES = {
    "next_contact_date": "2026-11-28",
    "next_contact_time": "09:00",
    "who_waits": "Customer waits for us",
    "customer_reachable": "yes",
    "waiting_for_rca": "no",
    "accepts_english": "yes",
    "pending_on": "PG",
}


def message_bytes(activity: Activity) -> int:
    """What Teams counts: the whole message as compact JSON, in UTF-16."""
    serialised = json.dumps(activity.serialize(), ensure_ascii=False, separators=(",", ":"))
    return len(serialised.encode("utf-16-le"))


def the_card(replies: list[Activity]) -> tuple[dict[str, Any], int]:
    """The one card among the replies, checked against the schema, and its message's size."""
    [message] = [r for r in replies if any(a.content_type == CARD for a in r.attachments or [])]
    [card] = cards([message])
    assert_valid_card(card)
    return card, message_bytes(message)


def filled(length: int, line: str, *, multiline: bool) -> str:
    """``length`` characters of ``line`` repeated, one per line when the box takes lines."""
    if not multiline:
        return (line * (length // len(line) + 1))[:length]
    text = ""
    while len(text) + len(line) + 1 <= length:
        text += line + "\n"
    return text.rstrip("\n")


def full_values(card: dict[str, Any], line_for: Callable[[str], str]) -> dict[str, str]:
    """Every text box of the card filled to its maxLength."""
    values: dict[str, str] = {}
    for element in card["body"]:
        if element.get("type") == "Input.Text" and element["id"] != "paste":
            line = line_for(element["id"])
            values[element["id"]] = filled(
                element["maxLength"], line, multiline=element["isMultiline"]
            )
    return values


def within_limit(size: int, card: dict[str, Any], what: str) -> None:
    assert size < MESSAGE_LIMIT_BYTES, f"{what}: {size / 1024:.1f} KB"
    shown = all_text(card)
    assert "too long for Teams" not in shown, f"{what} fits without being cut"
    assert "too large for Teams" not in shown, f"{what} fits without being replaced"


# A critical handoff (its form asks the critsit reason), and one nobody asked for with a reason
# of one's own (its form asks the justification too).
KINDS = {
    "critical": (CRITICAL_CASE, "continual-support"),
    "justified": ({**CRITICAL_CASE, "severity": "B", "is_24x7": "false"}, "other"),
}


@pytest.mark.parametrize("kind", KINDS)
async def test_forms_filled_to_their_maxlength_stay_within_the_limit(
    chat: Chat, clock: FakeClock, kind: str
) -> None:
    case, reason = KINDS[kind]
    clock._now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # Saturday: no meeting
    card, size = the_card(await chat.say(f"handoff {CASE}"))
    boxes = full_values(card, lambda _: "Cluster fails to scale out past twenty nodes ")
    # Asked again (the skill missing its plan): every box comes back full.
    card, size = the_card(await chat.submit("case", **boxes, **{**case, "plan": ""}))
    assert form_of(card) == "case"
    within_limit(size, card, "case form asked again")
    card, size = the_card(await chat.submit("case", **boxes, **case))
    assert form_of(card) == "transfer"

    boxes = full_values(card, lambda _: "The customer runs the cluster in US hours ")
    # The named engineer's box takes an address: one as long as the box allows.
    domain = "@example.invalid"
    boxes["target_engineer"] = "k" * (len(boxes["target_engineer"]) - len(domain)) + domain
    card, size = the_card(await chat.submit("transfer", **boxes, kind="between"))
    assert form_of(card) == "transfer"
    within_limit(size, card, "transfer form asked again")
    ready = {**boxes, "kind": "between", "target_region": "US", "reason": reason}
    card, size = the_card(await chat.submit("transfer", **ready))
    assert form_of(card) == "notes"

    # Every box full, and every next step for us without an owner: the form comes back full,
    # with its problems on top.
    good = full_values(card, lambda key: GOOD_LINES.get(key, "Idle connections drop "))
    ownerless = filled(len(good["next_steps_us"]), "Review the autoscaler logs", multiline=True)
    card, size = the_card(
        await chat.submit("notes", **{**good, **NOTES_CHOICES, "next_steps_us": ownerless})
    )
    assert form_of(card) == "notes"
    assert "has no owner" in all_text(card)
    within_limit(size, card, "notes form asked again")

    assert ("justification" in good) is (kind == "justified")
    card, size = the_card(await chat.submit("notes", **good, **NOTES_CHOICES))
    if form_of(card) == "meeting":
        card, size = the_card(await chat.submit("meeting", can_attend="yes"))
    assert form_of(card) == "review"
    within_limit(size, card, "review of notes at every box's maxLength")


def good_notes() -> HandoffNotes:
    return HandoffNotes(
        summary=GOOD_LINES["summary"].strip(),
        steps_tried=(StepTried(step="Raised the core quota", outcome="same failure"),),
        next_steps_customer=(GOOD_LINES["next_steps_customer"],),
        next_steps_us=(GOOD_LINES["next_steps_us"],),
        next_customer_contact=NextContact(
            at=datetime(2026, 11, 28, 14, 0, tzinfo=UTC), who_waits="Customer waits for us"
        ),
        checklist=Checklist(customer_reachable=True, critsit_reason="Production outage"),
    )


async def handoff_after_rounds(
    store: SqlStore, process: ProcessConfig, clock: FakeClock, rounds: int
) -> Handoff:
    """Ana's handoff of CASE after ``rounds`` questions from Bo, each as long as the card's box
    allows (1,000 characters), each answered as long as the answer card allows (2,000)."""
    service = build_service(store, process, clock)
    between = records.answers(CASE, "EMEA", "US", notes=good_notes())
    answers = dataclasses.replace(
        between,
        case=between.case.model_copy(update={"title": "Cluster fails to scale out"}),
        reason="High-priority case that needs continual support",
        reason_code="continual-support",
    )
    step = NextStep(NextStepKind.ATTEND_MEETING, "Attend the handoff meeting.", ())
    queue = Queue(process.queue.address, process.queue.subject_prefix)
    handoff = await service.request(answers, compose_outputs(answers, step, queue), ANA)
    for number in range(1, rounds + 1):
        question = filled(
            1000, f"Question {number}: which node pool stops first? ", multiline=False
        )
        answer = filled(2000, f"Answer {number}: the pool of the 20 small nodes. ", multiline=False)
        assert (await service.act(handoff.id, RequestMoreInfo(actor=BO, question=question))).changed
        assert (await service.act(handoff.id, ProvideInfo(actor=ANA, answer=answer))).changed
    return await store.get(handoff.id)


async def test_status_and_review_after_twenty_question_rounds_stay_within_the_limit(
    chat: Chat, store: SqlStore, process: ProcessConfig, clock: FakeClock
) -> None:
    handoff = await handoff_after_rounds(store, process, clock, rounds=20)
    assert len(handoff.notes.questions_answered) == 20

    card, size = the_card(await chat.say(f"status {CASE}"))
    within_limit(size, card, "status after 20 rounds")
    shown = all_text(card)
    assert "Answer 20: the pool" in shown, "the latest answer is shown"
    assert "more earlier steps" in shown, "the rest is counted, not shown"

    # Ana updates the handoff: its review shows the notes with their 20 answered questions.
    card, size = the_card(await chat.say(f"handoff {CASE}"))
    card, size = the_card(await chat.submit("existing"))
    card, size = the_card(await chat.submit("case", **prefilled(card)))
    card, size = the_card(await chat.submit("transfer", **prefilled(card)))
    replies = await chat.submit("notes", **prefilled(card))
    card, size = the_card(replies)
    if form_of(card) == "meeting":
        card, size = the_card(await chat.submit("meeting", can_attend="yes"))
    assert form_of(card) == "review"
    within_limit(size, card, "review after 20 rounds")
    assert "Answer 20: the pool" in all_text(card)
    assert "more questions answered earlier" in all_text(card)


def prefilled(card: dict[str, Any]) -> dict[str, str]:
    return {e["id"]: e["value"] for e in card["body"] if "id" in e and e.get("value")}
