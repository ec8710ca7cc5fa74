"""The notes step of the handoff dialog as an engineer meets it: notes pasted in the team's
templates, notes refused as vague, forms typed full (R-NOTES, R-QUALITY), on the real bot and a
real SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from application.insights import region_insights
from handoff.insights import parse_period
from handoff.models import AuditKind, Handoff
from storage.sql_store import SqlStore

from conftest import FakeClock
from harness.card_schema import assert_valid_card
from harness.chat import Chat, all_text, cards, form_of

CASE = "2311230040001234"
CRITICAL_CASE = {
    "title": "Cluster fails to scale out",
    "severity": "A",
    "is_24x7": "true",
    "plan": "Premier",
    "product_skill": "HDInsight",
    "customer_region": "US",
    "customer_timezone": "America/New_York",
    "status": "in progress",
    "owner_region": "EMEA",
}

# Seed 001's template as engineers copy it: a bulleted KEY: value list, after a summary.
SEED_001_NOTES = """\
Summary
Autoscale stops at 20 nodes since the Monday upgrade; we raised the core quota without effect, \
so we suspect the quota service.

- PASS TO: US
- REASON: The customer runs the cluster in US hours and needs an engineer there
- STEPS TRIED: Raised the core quota -> same failure
- NEXT STEPS: US SE: review the autoscaler logs with the customer
- NEXT CUSTOMER CONTACT: Customer waits for us, 2026-11-28 09:00 America/New_York
"""


def values(card: dict[str, Any]) -> dict[str, str]:
    """What a user submits when they leave the card's filled-in inputs as they are."""
    return {e["id"]: e["value"] for e in card["body"] if "id" in e and e.get("value")}


async def stored(store: SqlStore) -> Handoff:
    handoff = await store.open_for_case(CASE)
    assert handoff is not None
    return handoff


async def test_seed_001_notes_pasted_in_chat_fill_the_form_and_reach_the_notes(
    chat: Chat, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # Saturday: no meeting to ask about
    await chat.say(f"handoff {CASE}")
    await chat.submit("case", **CRITICAL_CASE)
    await chat.submit("transfer", kind="between", target_region="US", reason="continual-support")
    [card] = cards(await chat.say(SEED_001_NOTES))
    assert_valid_card(card)
    assert form_of(card) == "notes"
    filled = values(card)
    assert filled["summary"].startswith("Autoscale stops at 20 nodes")
    assert "REASON" not in filled["summary"], "seed 001's lines are not lumped into the summary"
    assert filled["steps_tried"] == "Raised the core quota -> Outcome: same failure"
    assert filled["next_steps_us"] == "US SE: review the autoscaler logs with the customer"
    assert (filled["next_contact_date"], filled["next_contact_time"]) == ("2026-11-28", "09:00")
    assert filled["who_waits"] == "Customer waits for us"
    # What seed 001 has no line for is asked by name.
    assert "Next steps for the customer" in all_text(card)

    rest = {
        "next_steps_customer": "Upload the autoscaler logs",
        "customer_reachable": "yes",
        "critsit_reason": "Production outage for all regions",
    }
    assert form_of(cards(await chat.submit("notes", **filled, **rest))[0]) == "review"
    await chat.submit("review")
    handoff = await stored(store)
    # The REASON went where the transfer form asks for the reason in one's own words.
    assert handoff.reason == (
        "High-priority case that needs continual support. "
        "The customer runs the cluster in US hours and needs an engineer there"
    )
    assert handoff.outputs is not None
    text = handoff.outputs.notes_text
    assert f"Reason for Handoff\n=============\n{handoff.reason}\n" in text
    assert "Pass To\n=============\nUS\n" in text
    assert "MSFT:\n1. US SE: review the autoscaler logs with the customer\n" in text
    assert "1. Raised the core quota -> Outcome: same failure\n" in text


GOOD_CRITICAL_NOTES = {
    "summary": (
        "Autoscale stops at 20 nodes since the Monday upgrade; we raised the core quota without "
        "effect, so we suspect the quota service."
    ),
    "steps_tried": "Raised the core quota -> Outcome: same failure",
    "next_steps_customer": "Upload the autoscaler logs",
    "next_steps_us": "US SE: review the autoscaler logs",
    "next_contact_date": "2026-11-28",
    "next_contact_time": "09:00",
    "who_waits": "Customer waits for us",
    "customer_reachable": "yes",
    "critsit_reason": "Production outage for all regions",
}


async def test_a_vague_summary_and_a_one_letter_critsit_reason_are_sent_back(
    chat: Chat, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    await chat.say(f"handoff {CASE}")
    await chat.submit("case", **CRITICAL_CASE)
    await chat.submit("transfer", kind="between", target_region="US", reason="continual-support")
    vague = {
        **GOOD_CRITICAL_NOTES,
        "summary": "Issue with Spark. Still looking into it.",
        "critsit_reason": "x",
    }
    [card] = cards(await chat.submit("notes", **vague))
    assert form_of(card) == "notes"
    shown = all_text(card)
    assert (
        "Summary: The summary 'Issue with Spark. Still looking into it.' does not say what the "
        "issue is, what was just done or your current conclusion. Add the issue at a glance"
    ) in shown
    assert "Checklist: The reason for the critsit ('x') does not say why the case is critical" in (
        shown
    )
    replies = await chat.submit("notes", **GOOD_CRITICAL_NOTES)
    assert form_of(cards(replies)[0]) == "review", "the notes of the seed's kind pass"


async def test_notes_refused_twice_then_passed_are_recorded_for_insights(
    chat: Chat, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    await chat.say(f"handoff {CASE}")
    await chat.submit("case", **CRITICAL_CASE)
    await chat.submit("transfer", kind="between", target_region="US", reason="continual-support")
    since = clock.now()
    vague = {**GOOD_CRITICAL_NOTES, "summary": "Issue with Spark. Still looking into it."}
    assert form_of(cards(await chat.submit("notes", **vague))[0]) == "notes"
    clock.advance(timedelta(minutes=3))
    no_owner = {**vague, "next_steps_us": "review the logs"}
    assert form_of(cards(await chat.submit("notes", **no_owner))[0]) == "notes"
    clock.advance(timedelta(minutes=3))
    assert form_of(cards(await chat.submit("notes", **GOOD_CRITICAL_NOTES))[0]) == "review"
    await chat.submit("review")
    handoff = await stored(store)

    refusals = await store.audit_entries_between(
        AuditKind.NOTES_REFUSED, since, clock.now() + timedelta(minutes=1)
    )
    assert [(r.subject, r.data["fixes"]) for r in refusals] == [
        (CASE, ["summary"]),
        (CASE, ["next_steps_us", "summary"]),
    ]
    period = parse_period(("1d",), clock.now() + timedelta(minutes=1), "UTC")
    notes = (await region_insights(store, period, None, clock.now())).notes
    assert (notes.refusals, notes.cases, notes.passed, notes.refusals_before_passing) == (
        2,
        1,
        1,
        2,
    )
    facts = await store.facts_requested(period.since, period.until)
    assert [f.handoff_id for f in facts] == [handoff.id]
