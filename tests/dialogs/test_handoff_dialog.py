"""Whole handoff conversations, turn by turn, on the real bot and a real SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from application import messages
from application.router import help_text
from handoff import access
from handoff.models import HandoffState, Person
from storage.sql_store import SqlStore

from conftest import FakeClock
from harness.chat import Chat, all_text, cards, form_of, input_ids, teams_values, texts
from harness.dialog_user import (
    CASE,
    CRITICAL_CASE,
    CRITICAL_NOTES,
    NON_CRITICAL_CASE,
    NON_CRITICAL_NOTES,
    WITHIN_REGION_CASE,
    Recorder,
    stored,
    the_form,
)
from harness.pseudo_locale import unmarked


async def test_sev_a_24x7_on_a_weekend_goes_back_to_the_queue_with_the_dm_mail(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # Saturday: no meeting
    assert the_form(await user.say(f"handoff {CASE}")) == "case"
    assert the_form(await user.submit("case", **CRITICAL_CASE)) == "transfer"
    replies = await user.submit(
        "transfer", kind="between", target_region="US", reason="continual-support"
    )
    assert the_form(replies) == "notes"
    replies = await user.submit("notes", **CRITICAL_NOTES)
    assert the_form(replies) == "review"
    [review] = cards(replies)
    assert "Send it now" in all_text(review)
    replies = await user.submit("review")
    assert texts(replies)[0].startswith(f"Handoff of case {CASE} requested")

    handoff = await stored(store)
    assert handoff.state is HandoffState.REQUESTED
    assert handoff.requester.name == "Ana Lopez"
    outputs = handoff.outputs
    assert outputs is not None
    assert outputs.title == "<Need US SE> Cluster fails to scale out"
    assert outputs.mail_subject == (
        "Big Data DM, please reassign Prem Sev A 2311230040001234 to US SE - Skill: HDInsight"
    )
    assert outputs.send_mail_now
    assert outputs.path == (
        "24x7 case",
        "no handoff meeting (receiving region off)",
        "transfer back to queue and e-mail DM",
        "stay with case until new owner",
    )
    assert outputs.notes_text == CRITICAL_NOTES_TEXT
    assert outputs.mailto_url.startswith("mailto:dm-queue@example.invalid?subject=Big%20Data")
    assert "Sat Nov 28, 2026, 9:00 AM EST" in unmarked(outputs.customer_message)
    [event] = await store.history(handoff.id)
    assert event.kind == "requested"
    assert event.data["path"] == list(outputs.path)
    # case, transfer, notes, review (no meeting to ask about), and the requester's own copy of
    # the handoff's card, with their Cancel and Back to queue
    assert user.cards_seen == 5


CRITICAL_NOTES_TEXT = """\
Summary
=============
Autoscale stops at 20 nodes since the Monday upgrade and jobs queue for hours; raising the \
core quota did not help, so we suspect the quota service.

Pass To
=============
US

Reason for Handoff
=============
High-priority case that needs continual support

Steps Tried:
=============
1. Raised the core quota -> Outcome: same failure
2. Restarted the autoscaler -> Outcome: no change

Current Status
=============
In progress

Next Steps:
=============

Cx:
1. Upload the autoscaler logs

MSFT:
1. US SE: review the autoscaler logs
2. We will ask PG about the quota service

Next Customer Contact:
=============
When: Sat 2026-11-28 09:00 EST (UTC-05:00, America/New_York)
Who waits for whom: Customer waits for us

Research:
=============

- https://example.invalid/kb/autoscale

Ticket's checklist
=============

Customer Reachable?: Yes
Waiting for RCA?:
Customer accept English Support?: Yes
Now the issue is pending on?:
IcM ID?:
Reason for Critsit: Production outage for all regions
"""


async def test_non_24x7_outside_the_owners_hours_goes_back_to_the_queue_now(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai: APAC is off
    await user.say(f"handoff {CASE}")
    await user.submit("case", **NON_CRITICAL_CASE)
    replies = await user.submit(
        "transfer",
        kind="between",
        target_region="EMEA",
        reason="customer-time-zone",
        customer_asked="true",
    )
    assert the_form(replies) == "notes"
    assert "justification" not in input_ids(cards(replies)[0]), "the customer asked for it"
    assert the_form(await user.submit("notes", **NON_CRITICAL_NOTES)) == "review"
    replies = await user.submit("review")
    assert texts(replies) == [
        f"Handoff of case {CASE} requested; it now waits for the receiving engineer. Next step: "
        "Now, transfer the case back to the queue and e-mail the DM for reassignment."
    ]
    outputs = (await stored(store)).outputs
    assert outputs is not None
    assert outputs.title == "<Need EMEA SE> Slow queries after index rebuild"
    assert outputs.mail_subject == (
        "Big Data DM, please reassign Pro Sev B 2311230040001234 to EMEA SE - Skill: Synapse SQL"
    )
    assert outputs.path == (
        "non-24x7 case",
        "no handoff call within owner's hours",
        "transfer back to queue and e-mail DM",
    )
    assert outputs.notes_text == NON_CRITICAL_NOTES_TEXT


NON_CRITICAL_NOTES_TEXT = """\
Summary
=============
Queries on the sales pool run 5x slower since the index rebuild on Friday; updating the \
statistics helped only 10%, so we suspect the new index layout.

Pass To
=============
EMEA

Reason for Handoff
=============
Customer needs support in a time zone I cannot serve

Steps Tried:
=============
1. Updated statistics -> Outcome: 10% faster, still slow

Current Status
=============
Waiting on customer

Next Steps:
=============

Cx:
1. Send the query plans of the three slowest queries

MSFT:
1. EMEA SE: compare the plans with the baseline

Next Customer Contact:
=============
When: Wed 2026-11-25 10:00 CET (UTC+01:00, Europe/Berlin)
Who waits for whom: We wait for the customer

Research:
=============


Ticket's checklist
=============

Customer Reachable?:
Waiting for RCA?:
Customer accept English Support?:
Now the issue is pending on?:
IcM ID?:
Reason for Critsit:
"""


async def test_collaboration_handoff_that_still_needs_the_team_runs_the_normal_flow(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    await user.say(f"handoff {CASE}")
    await user.submit("case", **NON_CRITICAL_CASE)
    await user.submit(
        "transfer",
        kind="collab",
        target_region="EMEA",
        reason="needs-sme",
        reason_text="The storage team must look at the IO throttling.",
        needs_collab_input="true",
        customer_asked="false",
    )
    # An SME is an accepted reason within a region, not between regions: say why (R-TRANSFER).
    replies = await user.submit("notes", **NON_CRITICAL_NOTES)
    assert "Why this case needs a handoff" in all_text(cards(replies)[0])
    why = "Only the EMEA storage team can read the IO throttling traces."
    await user.submit("notes", **NON_CRITICAL_NOTES, justification=why)
    await user.submit("review")
    handoff = await stored(store)
    assert handoff.kind.value == "collaboration"
    assert handoff.reason == (
        "High-priority case that needs a subject matter expert. "
        "The storage team must look at the IO throttling."
    )
    assert handoff.outputs is not None
    assert handoff.outputs.title == "<Need EMEA SE> Slow queries after index rebuild"
    assert handoff.outputs.mail_subject == (
        "Big Data DM, please reassign Pro Sev B 2311230040001234 to EMEA SE - Skill: Synapse SQL"
    )
    # The handoff's reason is seed 001's REASON; the justification follows it.
    reason = "Customer needs support in a time zone I cannot serve\n"
    assert handoff.outputs.notes_text == NON_CRITICAL_NOTES_TEXT.replace(
        reason,
        f"{handoff.reason}\n\nWhy It Needs a Handoff\n=============\n{why}\n",
    )


async def test_collaboration_no_longer_needed_ends_without_a_handoff(
    user: Recorder, store: SqlStore
) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **NON_CRITICAL_CASE)
    replies = await user.submit(
        "transfer",
        kind="collab",
        target_region="EMEA",
        reason="needs-sme",
        needs_collab_input="false",
    )
    assert cards(replies) == []
    assert "No handoff is needed" in texts(replies)[0]
    assert await store.open_for_case(CASE) is None


async def test_within_region_transfer_requires_the_must_dos(
    user: Recorder, store: SqlStore
) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **WITHIN_REGION_CASE)
    await user.submit(
        "transfer",
        kind="within",
        target_region="EMEA",
        target_engineer="kim.sme@example.invalid",
        reason="needs-sme",
    )
    replies = await user.submit("notes", **CRITICAL_NOTES)
    assert the_form(replies) == "checklist"
    replies = await user.submit("checklist", supervisor_consulted="true", customer_told="true")
    assert the_form(replies) == "checklist"
    [again] = cards(replies)
    assert "Not yet: spoke to the receiving engineer." in all_text(again)
    assert "never transfer it to your supervisor without asking" in all_text(again)
    replies = await user.submit(
        "checklist", supervisor_consulted="true", receiver_spoken_to="true", customer_told="true"
    )
    assert the_form(replies) == "review"
    await user.submit("review")
    handoff = await stored(store)
    assert handoff.kind.value == "within-region"
    assert handoff.target_engineer is not None
    assert handoff.target_engineer.id == "kim.sme@example.invalid"
    outputs = handoff.outputs
    assert outputs is not None
    assert outputs.title == "<Need EMEA SE> Cluster fails to scale out"
    assert outputs.mail_subject == (
        "Big Data DM, please reassign Prem Sev A 2311230040001234 to EMEA SE - Skill: HDInsight"
    )
    assert (
        unmarked(outputs.next_step)
        == "Reassign the case to kim.sme@example.invalid in the case tool."
    )
    assert outputs.notes_text == CRITICAL_NOTES_TEXT.replace(
        "Pass To\n=============\nUS\n", "Pass To\n=============\nEMEA\n"
    ).replace(
        "High-priority case that needs continual support",
        "High-priority case that needs a subject matter expert",
    )
    # Issue 15: the customer is never shown the engineer's raw address.
    assert "A colleague from our EMEA team will continue" in unmarked(outputs.customer_message)


PASTED_TEMPLATE = """\
Summary
=============
Autoscale stops at 20 nodes since the Monday upgrade and jobs queue for hours; raising the \
core quota did not help, so we suspect the quota service.

Next Steps:
=============

Cx:
1. Upload the autoscaler logs

MSFT:
1. US SE: review the autoscaler logs
2. We will ask PG about the quota service

ICM or Partner Ticket
=============
ICM 123456789

Research:
=============

https://example.invalid/kb/autoscale

Ticket's checklist
=============

Customer Reachable?:Yes
Waiting for RCA?:No
Customer accept English Support?: Yes
Now the issue is pending on?: CSS
IcM ID?: 123456789
<Reason for Critsit: Production outage for all regions>
"""


async def test_pasted_template_notes_are_read_and_only_the_rest_is_asked(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    replies = await user.say(PASTED_TEMPLATE)
    [card] = cards(replies)
    assert form_of(card) == "notes"
    shown = all_text(card)
    # What the template held is not asked again...
    assert "Summary:" not in shown
    assert "Next steps for us:" not in shown
    # ...what it lacked is, by name.
    assert "Next customer contact:" in shown
    assert "Steps tried:" in shown
    prefilled = {e["id"]: e.get("value") for e in card["body"] if "id" in e}
    assert prefilled["summary"] == CRITICAL_NOTES["summary"]
    assert prefilled["icm_or_partner_ticket"] == "ICM 123456789"
    assert prefilled["pending_on"] == "CSS"

    rest = {
        "steps_tried": CRITICAL_NOTES["steps_tried"],
        "next_contact_date": "2026-11-28",
        "next_contact_time": "09:00",
        "who_waits": "Customer waits for us",
    }
    assert the_form(await user.submit("notes", **{**prefilled_values(card), **rest})) == "review"
    await user.submit("review")
    outputs = (await stored(store)).outputs
    assert outputs is not None
    assert outputs.title == "<Need US SE> Cluster fails to scale out"
    assert outputs.mail_subject == (
        "Big Data DM, please reassign Prem Sev A 2311230040001234 to US SE - Skill: HDInsight"
    )
    assert outputs.notes_text == PASTED_NOTES_TEXT


def prefilled_values(card: dict[str, Any]) -> dict[str, str]:
    """What a user submits when they leave the card's filled-in inputs as they are."""
    return {e["id"]: e["value"] for e in card["body"] if "id" in e and e.get("value")}


PASTED_NOTES_TEXT = """\
Summary
=============
Autoscale stops at 20 nodes since the Monday upgrade and jobs queue for hours; raising the \
core quota did not help, so we suspect the quota service.

Pass To
=============
US

Reason for Handoff
=============
High-priority case that needs continual support

Steps Tried:
=============
1. Raised the core quota -> Outcome: same failure
2. Restarted the autoscaler -> Outcome: no change

Current Status
=============
In progress

Next Steps:
=============

Cx:
1. Upload the autoscaler logs

MSFT:
1. US SE: review the autoscaler logs
2. We will ask PG about the quota service

Next Customer Contact:
=============
When: Sat 2026-11-28 09:00 EST (UTC-05:00, America/New_York)
Who waits for whom: Customer waits for us

ICM or Partner Ticket
=============
ICM 123456789

Research:
=============

- https://example.invalid/kb/autoscale

Ticket's checklist
=============

Customer Reachable?: Yes
Waiting for RCA?: No
Customer accept English Support?: Yes
Now the issue is pending on?: CSS
IcM ID?: 123456789
Reason for Critsit: Production outage for all regions
"""


async def test_vague_notes_are_refused_by_field_and_the_form_comes_back_filled(
    user: Recorder, store: SqlStore
) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    vague = {**CRITICAL_NOTES, "summary": "troubleshooting ongoing", "next_steps_us": "check logs"}
    replies = await user.submit("notes", **vague)
    [card] = cards(replies)
    assert form_of(card) == "notes"
    shown = all_text(card)
    assert "Summary: The summary 'troubleshooting ongoing' does not tell" in shown
    assert "Next steps for us: Next step for us 1 ('check logs') has no owner" in shown
    kept = prefilled_values(card)
    assert kept["steps_tried"] == CRITICAL_NOTES["steps_tried"]
    assert kept["critsit_reason"] == CRITICAL_NOTES["critsit_reason"]
    assert kept["summary"] == "troubleshooting ongoing"
    # The dialog carries on from the notes, not from the start.
    fixed = {**kept, "summary": CRITICAL_NOTES["summary"], "next_steps_us": "US SE: read the logs"}
    assert the_form(await user.submit("notes", **fixed)) == "meeting"  # Monday, EMEA on shift
    assert await store.open_for_case(CASE) is None, "nothing is stored before confirmation"


async def test_back_returns_one_step_with_the_answers_kept(user: Recorder) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    replies = await user.submit("transfer", action="back")
    [card] = cards(replies)
    assert form_of(card) == "case"
    assert prefilled_values(card)["product_skill"] == "HDInsight"
    replies = await user.say("back")
    assert form_of(cards(replies)[0]) == "case", "back at the first step stays there"


async def test_cancel_leaves_at_any_step_and_saves_nothing(user: Recorder, store: SqlStore) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    replies = await user.say("cancel")
    assert texts(replies) == ["Handoff cancelled. Nothing was saved."]
    replies = await user.say("help")
    assert "What I can do" in texts(replies)[0], "the dialog is over"
    assert await store.open_for_case(CASE) is None


async def test_a_case_number_is_asked_for_and_checked(user: Recorder) -> None:
    replies = await user.say("handoff")
    assert texts(replies) == ["Which case do you want to hand off? Type its case number."]
    replies = await user.say("case twelve")
    assert texts(replies)[0].startswith("“case twelve” is not a case number")
    replies = await user.say("2311 2300 4000 1234")
    assert the_form(replies) == "case"


async def test_a_bad_case_number_with_the_command_is_explained(user: Recorder) -> None:
    replies = await user.say("handoff 12ab")
    assert texts(replies) == [messages.not_a_case_number("12ab")]


async def test_typing_where_a_card_is_expected_asks_for_the_card(user: Recorder) -> None:
    await user.say(f"handoff {CASE}")
    replies = await user.say("Sev A please")
    assert the_form(replies) == "case"
    assert "Please answer with the card above" in all_text(cards(replies)[0])


async def test_a_button_on_an_older_card_gets_the_current_step(user: Recorder) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    replies = await user.submit("case", **CRITICAL_CASE)
    assert texts(replies) == ["That card belongs to an earlier step; here is the current one."]
    assert the_form(replies) == "transfer"


async def test_a_second_handoff_for_the_case_updates_the_open_one(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    await user.submit("notes", **CRITICAL_NOTES)
    await user.submit("review")
    first = await stored(store)

    replies = await user.say(f"handoff {CASE}")
    [offer] = cards(replies)
    assert form_of(offer) == "existing"
    assert "already has an open handoff" in all_text(offer)
    replies = await user.submit("existing")
    [case_card] = cards(replies)
    assert prefilled_values(case_card)["title"] == "Cluster fails to scale out", "starts from it"
    replies = await user.submit(
        "case", **{**CRITICAL_CASE, "title": "Cluster fails to scale out (v2)"}
    )
    replies = await user.submit("transfer", **prefilled_values(cards(replies)[0]))
    [notes_card] = cards(replies)
    assert prefilled_values(notes_card)["summary"] == CRITICAL_NOTES["summary"]
    replies = await user.submit("notes", **prefilled_values(notes_card))
    assert the_form(replies) == "review"
    replies = await user.submit("review")
    assert texts(replies)[0].startswith(f"Updated the open handoff of case {CASE}.")

    updated = await stored(store)
    assert updated.id == first.id
    assert updated.version == first.version + 1
    assert updated.outputs is not None
    assert updated.outputs.title == "<Need US SE> Cluster fails to scale out (v2)"
    assert [e.kind for e in await store.history(first.id)] == ["requested", "revised"]


async def test_handoff_in_a_channel_points_to_the_personal_chat(
    adapter: Any, store: SqlStore
) -> None:
    from botbuilder.schema import ConversationAccount

    adapter.template.conversation = ConversationAccount(
        id="19:channel@thread.tacv2", conversation_type="channel"
    )
    replies = await Chat(adapter).say(f"handoff {CASE}", mention_bot=True)
    assert texts(replies) == [messages.handoff_in_personal_chat()]


async def test_a_handoff_nobody_asked_for_needs_its_reason_in_the_notes(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    await user.say(f"handoff {CASE}")
    await user.submit("case", **NON_CRITICAL_CASE)
    replies = await user.submit(
        "transfer",
        kind="between",
        target_region="EMEA",
        reason="other",
        reason_text="The owner rotates to another product next week.",
    )
    [card] = cards(replies)
    assert "justification" in input_ids(card)
    replies = await user.submit("notes", **NON_CRITICAL_NOTES)
    [again] = cards(replies)
    assert "Why this case needs a handoff: Say why" in all_text(again)
    reason = "The customer works from Berlin and needs answers in their morning."
    replies = await user.submit("notes", **{**NON_CRITICAL_NOTES, "justification": reason})
    assert the_form(replies) == "review"
    await user.submit("review")
    handoff = await stored(store)
    assert handoff.notes.reason == reason
    assert handoff.outputs is not None
    assert f"Why It Needs a Handoff\n=============\n{reason}\n" in handoff.outputs.notes_text
    assert (
        "Reason for Handoff\n=============\nThe owner rotates to another product next week.\n"
    ) in handoff.outputs.notes_text


async def test_help_in_the_middle_keeps_the_answers(user: Recorder) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    replies = await user.say("help")
    assert texts(replies) == [help_text(), messages.in_a_handoff()]
    assert (
        the_form(
            await user.submit("transfer", kind="between", target_region="US", reason="needs-sme")
        )
        == "notes"
    )


async def test_a_sev_a_case_without_24x7_is_told_the_downgrade_path(user: Recorder) -> None:
    await user.say(f"handoff {CASE}")
    replies = await user.submit("case", **{**CRITICAL_CASE, "is_24x7": "false"})
    [hint] = texts(replies)
    assert hint.startswith("This Sev A case is not marked 24x7")
    assert the_form(replies) == "transfer"


async def test_weekday_critical_case_asks_about_the_meeting_and_records_the_teammate(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tuesday, EMEA on shift
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    replies = await user.submit("notes", **{**CRITICAL_NOTES, "next_contact_date": "2026-11-24"})
    [meeting] = cards(replies)
    assert form_of(meeting) == "meeting"
    shown = all_text(meeting)
    # 08:30 in Los Angeles, shown in the reader's zone (the chat's client is in Berlin).
    assert "EMEA → US, is on Tue Nov 24, 2026, 5:30 PM CET" in shown
    assert "I have aligned with EMEA handoff SME" in json.dumps(meeting)
    replies = await user.submit("meeting", can_attend="no", teammate_can_hold="yes")
    assert "The teammate's name: say who holds the case." in all_text(cards(replies)[0])
    replies = await user.submit("meeting", can_attend="no", teammate_can_hold="yes", teammate="Sam")
    assert the_form(replies) == "review"
    await user.submit("review")
    outputs = (await stored(store)).outputs
    assert outputs is not None
    assert outputs.path == (
        "24x7 case",
        "handoff meeting found",
        "owner cannot attend",
        "teammate holds case and attends",
    )


async def test_going_to_the_queue_while_on_leave_is_warned_and_needs_confirmation(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # weekend: back to the queue
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit(
        "transfer",
        kind="between",
        target_region="US",
        reason="extended-time-off",
        severity_raise="true",
    )
    replies = await user.submit("notes", **CRITICAL_NOTES)
    [warning] = cards(replies)
    assert form_of(warning) == "warnings"
    shown = all_text(warning)
    assert "because you are taking leave" in shown
    assert "raise the severity only to get resources faster" in shown
    assert await store.open_for_case(CASE) is None
    assert the_form(await user.submit("warnings")) == "review"


async def test_checklist_questions_left_unanswered_stay_blank_not_no(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    await user.say(f"handoff {CASE}")
    replies = await user.submit(
        "case", **teams_values(cards(await user.say("back"))[0], **NON_CRITICAL_CASE)
    )
    replies = await user.submit(
        "transfer",
        **teams_values(
            cards(replies)[0],
            kind="between",
            target_region="EMEA",
            reason="customer-time-zone",
            customer_asked="true",
        ),
    )
    [notes_card] = cards(replies)
    typed = {k: v for k, v in NON_CRITICAL_NOTES.items()}
    replies = await user.submit(
        "notes", **teams_values(notes_card, **typed, customer_reachable="yes")
    )
    assert the_form(replies) == "review"
    await user.submit("review")
    outputs = (await stored(store)).outputs
    assert outputs is not None
    assert "Customer Reachable?: Yes\nWaiting for RCA?:\nCustomer accept English Support?:\n" in (
        outputs.notes_text
    )


async def test_going_back_to_another_case_number_starts_afresh(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    await user.submit("notes", **CRITICAL_NOTES)
    await user.submit("review")
    first = await stored(store)

    other = "2311230040009999"
    await user.say("handoff")
    replies = await user.say(CASE)
    assert the_form(replies) == "existing"
    await user.submit("existing")
    await user.say("back")
    replies = await user.say("back")
    assert texts(replies) == ["Which case do you want to hand off? Type its case number."]
    replies = await user.say(other)
    [case_card] = cards(replies)
    assert form_of(case_card) == "case"
    assert "title" not in prefilled_values(case_card), "nothing of the first case carries over"
    await user.submit("case", **{**CRITICAL_CASE, "title": "Another case entirely"})
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    await user.submit("notes", **CRITICAL_NOTES)
    await user.submit("review")
    assert (await stored(store)).version == first.version, "the first case's handoff is untouched"
    second = await store.open_for_case(other)
    assert second is not None and second.outputs is not None
    assert second.outputs.title == "<Need US SE> Another case entirely"


async def test_an_open_handoff_closed_meanwhile_is_not_updated(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    from handoff.state_machine import Accept, apply

    clock._now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    await user.submit("notes", **CRITICAL_NOTES)
    await user.submit("review")
    first = await stored(store)
    replies = await user.say(f"handoff {CASE}")
    assert the_form(replies) == "existing"
    # Someone accepts it from the channel while the offer is on screen.
    accepted = apply(first, Accept(actor=Person(id="29:bo", name="Bo")), clock.now())
    await store.save(accepted.handoff, first.version, accepted.events)
    replies = await user.submit("existing")
    assert texts(replies) == [
        f"Meanwhile the handoff of case {CASE} was accepted; this one starts afresh."
    ]
    assert the_form(replies) == "case"


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("between", "Receiving region: EMEA is your own region; choose another region"),
    ],
)
async def test_a_handoff_to_another_region_must_leave_the_region(
    user: Recorder, kind: str, problem: str
) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    replies = await user.submit(
        "transfer", kind=kind, target_region="EMEA", reason="continual-support"
    )
    assert problem in all_text(cards(replies)[0])


async def test_a_collaboration_in_the_owners_region_is_a_direct_transfer(
    user: Recorder, store: SqlStore
) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit(
        "transfer",
        kind="collab",
        target_region="EMEA",
        reason="needs-sme",
        needs_collab_input="true",
    )
    replies = await user.submit("notes", **CRITICAL_NOTES)
    assert the_form(replies) == "review"
    await user.submit("review")
    outputs = (await stored(store)).outputs
    assert outputs is not None
    assert unmarked(outputs.next_step).startswith("Reassign the case to")


async def test_a_reason_too_long_for_the_record_is_refused(user: Recorder) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    replies = await user.submit(
        "transfer", kind="between", target_region="US", reason="other", reason_text="x" * 1500
    )
    assert "Reason in your words: keep it under 1,000 characters" in all_text(cards(replies)[0])


async def test_pressing_request_again_after_it_went_through_says_the_form_is_done(
    user: Recorder, store: SqlStore
) -> None:
    clock_free_case = {**CRITICAL_CASE}
    await user.say(f"handoff {CASE}")
    await user.submit("case", **clock_free_case)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    replies = await user.submit("notes", **CRITICAL_NOTES)
    if the_form(replies) == "meeting":
        await user.submit("meeting", can_attend="yes")
    await user.submit("review")
    replies = await user.submit("review")
    assert texts(replies) == [messages.stale_form()]
    assert len(await store.history((await stored(store)).id)) == 1, "requested once"


async def test_a_dialog_from_an_older_release_ends_with_a_clear_message(
    user: Recorder, store: SqlStore
) -> None:
    from storage.bot_state import SqlBotStorage

    await user.say(f"handoff {CASE}")
    # Rewrite the stored dialog as an older release might have left it: a step that is gone.
    bot_storage = SqlBotStorage(store.database)
    [key] = [k for k in await _state_keys(store) if "/conversations/" in k]
    item = cast(dict[str, Any], (await bot_storage.read([key]))[key])
    item["DialogState"].dialog_stack[0].state["step"] = "customer_phone"
    item["e_tag"] = "*"
    await bot_storage.write({key: item})
    replies = await user.submit("case", **CRITICAL_CASE)
    assert texts(replies) == [
        "The handoff form changed with an update of the bot, so I could not carry on with the "
        "one you started. Type **handoff** to start again."
    ]
    assert "What I can do" in texts(await user.say("help"))[0], "and the user is not stuck"


async def _state_keys(store: SqlStore) -> list[str]:
    rows = await store.database.fetch_all("SELECT key FROM bot_state")
    return [str(row["key"]) for row in rows]


async def test_a_client_time_zone_that_is_not_iana_is_ignored(
    adapter: Any, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    chat = Chat(adapter, timezone="Pacific Standard Time")
    await chat.say(f"handoff {CASE}")
    await chat.submit("case", **CRITICAL_CASE)
    await chat.submit("transfer", kind="between", target_region="US", reason="continual-support")
    replies = await chat.submit("notes", **{**CRITICAL_NOTES, "next_contact_date": "2026-11-24"})
    [meeting] = cards(replies)
    assert "Tue Nov 24, 2026, 4:30 PM UTC" in all_text(meeting), "shown in UTC instead"


async def test_notes_pasted_mid_dialog_that_start_with_handoff_are_notes(user: Recorder) -> None:
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    replies = await user.say("Handoff notes for the US team:\n" + PASTED_TEMPLATE)
    [card] = cards(replies)
    assert form_of(card) == "notes"
    assert prefilled_values(card)["summary"] == CRITICAL_NOTES["summary"]


async def test_the_teammate_who_holds_the_case_is_named(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    await user.submit("notes", **{**CRITICAL_NOTES, "next_contact_date": "2026-11-24"})
    await user.submit("meeting", can_attend="no", teammate_can_hold="yes", teammate="Sam Lee")
    await user.submit("review")
    outputs = (await stored(store)).outputs
    assert outputs is not None
    assert unmarked(outputs.next_step).startswith(
        "Transfer the case to Sam Lee, who holds it and attends"
    )


async def test_longrunning_flags_a_case_and_proposes_regional_owners(
    user: Recorder, store: SqlStore, clock: FakeClock
) -> None:
    # Before the Case Transfer channel is set up, only a handoff's own people see it.
    assert texts(await user.say(f"longrunning {CASE}")) == [access.NO_TEAM_TO_SHOW]
    clock._now = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    await user.say(f"handoff {CASE}")
    await user.submit("case", **CRITICAL_CASE)
    await user.submit("transfer", kind="between", target_region="US", reason="continual-support")
    await user.submit("notes", **CRITICAL_NOTES)
    await user.submit("review")
    assert texts(await user.say(f"longrunning {CASE}")) == [messages.not_long_running(CASE)]
    replies = await user.say(f"longrunning {CASE} customer works in two time zones")
    assert texts(replies) == [
        f"Case {CASE} is long-running: flagged: customer works in two time zones."
    ]
    assert (
        unmarked((await stored(store)).long_running) == "flagged: customer works in two time zones"
    )


async def test_shifts_shows_who_is_on_and_what_comes_next_in_the_readers_zone(
    user: Recorder, clock: FakeClock
) -> None:
    clock._now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Monday; the chat is in Berlin
    [text] = texts(await user.say("shifts"))
    lines = text.splitlines()
    assert lines[0] == "**Shifts and handoff meetings** (times in Europe/Berlin)"
    assert lines[2] == (
        "- **EMEA**: on shift until Mon Nov 23, 2026, 6:00 PM CET; "
        "next meeting → US Mon Nov 23, 2026, 5:30 PM CET"
    )
    assert lines[3].startswith("- **US**: off; next shift Mon Nov 23, 2026, 6:00 PM CET")


async def test_settings_are_kept_per_person_and_bad_values_explained(
    user: Recorder, store: SqlStore
) -> None:
    [shown] = texts(await user.say("settings"))
    assert shown == (
        "**Your settings** — region: not set; time zone: Europe/Berlin, from your Teams client; "
        "working hours: your region's shift; reminders: on. Language: English (the default). "
        "Weekly digest to the Case Transfer channel (for the whole team): on."
    )
    assert await store.user_settings("29:ana") is None, "looking changes nothing"
    await user.say("settings region emea")
    region_only = await store.user_settings("29:ana")
    assert region_only is not None and region_only.timezone is None, (
        "the client's zone is not saved"
    )
    await user.say("settings hours 08:30-17:00")
    [shown] = texts(await user.say("settings mute"))
    assert shown == (
        "**Your settings** — region: EMEA; time zone: Europe/Berlin; working hours: "
        "08:30-17:00; reminders: muted. Language: English (the default). Weekly digest to the "
        "Case Transfer channel (for the whole team): on."
    )
    [problem] = texts(await user.say("settings hours nine to five"))
    assert problem.startswith("write working hours like 09:00-17:30. For example:")
    [problem] = texts(await user.say("settings zone Mars/Olympus"))
    assert problem.startswith("unknown IANA time zone 'Mars/Olympus'")
    [problem] = texts(await user.say("settings region LATAM"))
    assert problem.startswith("“LATAM” is not a region; use one of EMEA, US, APAC, IST.")
    stored_settings = await store.user_settings("29:ana")
    assert stored_settings is not None and stored_settings.muted
    assert await store.reminded_users() == []


async def test_shifts_prefer_the_zone_the_user_set(user: Recorder, clock: FakeClock) -> None:
    clock._now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    await user.say("settings zone Asia/Singapore")
    [text] = texts(await user.say("shifts"))
    assert text.splitlines()[0] == "**Shifts and handoff meetings** (times in Asia/Singapore)"
