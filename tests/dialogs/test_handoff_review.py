"""What the review step of the handoff dialog gives an engineer to send on: the customer's draft
(R-CUSTOMER), on the real bot and a real SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime

from handoff.models import Handoff
from storage.sql_store import SqlStore

from conftest import FakeClock
from harness.chat import Chat, cards, form_of
from harness.pseudo_locale import unmarked

CASE = "2311230040001234"
# A Sev C case: its notes need no next customer contact (R-NOTES), so none may be entered.
SEV_C_CASE = {
    "title": "Slow queries after index rebuild",
    "severity": "C",
    "is_24x7": "false",
    "plan": "Professional",
    "product_skill": "Synapse SQL",
    "customer_region": "EMEA",
    "customer_timezone": "Europe/Berlin",
    "status": "waiting on customer",
    "owner_region": "EMEA",
}
NOTES_WITHOUT_CONTACT = {
    "summary": (
        "Queries on the sales pool run 5x slower since the index rebuild on Friday; updating the "
        "statistics helped only 10%, so we suspect the new index layout."
    ),
    "next_steps_us": "EMEA SE: compare the plans with the baseline",
}
MUST_DOS = {"supervisor_consulted": "true", "receiver_spoken_to": "true", "customer_told": "true"}


async def hand_over_within_emea(chat: Chat, store: SqlStore, engineer: str) -> Handoff:
    await chat.say(f"handoff {CASE}")
    await chat.submit("case", **SEV_C_CASE)
    await chat.submit(
        "transfer",
        kind="within",
        target_region="EMEA",
        target_engineer=engineer,
        reason="needs-sme",
    )
    assert form_of(cards(await chat.submit("notes", **NOTES_WITHOUT_CONTACT))[0]) == "checklist"
    assert form_of(cards(await chat.submit("checklist", **MUST_DOS))[0]) == "review"
    await chat.submit("review")
    handoff = await store.open_for_case(CASE)
    assert handoff is not None and handoff.outputs is not None
    return handoff


async def test_with_no_next_contact_entered_the_customer_is_promised_no_time(
    chat: Chat, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    handoff = await hand_over_within_emea(chat, store, "")
    assert handoff.outputs is not None
    draft = unmarked(handoff.outputs.customer_message)
    assert "next update" not in draft.lower()
    assert "2026" not in draft, "no date was entered, so none is promised"
    assert "The new engineer will be in touch with you." in draft


async def test_an_engineer_named_by_address_is_not_shown_to_the_customer_by_it(
    chat: Chat, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    handoff = await hand_over_within_emea(chat, store, "kim.sme@example.invalid")
    assert handoff.outputs is not None
    draft = unmarked(handoff.outputs.customer_message)
    assert "@" not in draft
    assert f"A colleague from our EMEA team will continue working on your case {CASE}." in draft


async def test_an_engineer_the_bot_knows_by_address_is_named_to_the_customer(
    chat: Chat, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    # The EMEA handoff SME of config/handoff.yaml, by the address the file gives.
    handoff = await hand_over_within_emea(chat, store, "EMEA-handoff-SME@example.invalid")
    assert handoff.outputs is not None
    draft = unmarked(handoff.outputs.customer_message)
    assert f"EMEA handoff SME will continue working on your case {CASE}." in draft
    assert "@" not in draft
    assert handoff.target_engineer is not None
    assert handoff.target_engineer.name == "EMEA handoff SME"
