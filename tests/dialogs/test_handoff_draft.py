"""What the handoff dialog makes of the answers it kept: a case number however typed, the open
handoff shown only to whom it may be, the reader's zone, the next step of the flow chart, and a
stored handoff turned back into its forms so that updating it starts from what it says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from config.process import ProcessConfig, load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from dialogs.form_flow import FormOutdated, Reply
from dialogs.handoff_draft import (
    CARRIED,
    PASTED_MESSAGE,
    SAVED_SETTINGS,
    SEES_EVERY_CASE,
    Draft,
    HandoffDeps,
    card_values,
    lookup_case,
    notes_of_message,
    raw_of,
    saved_settings_answer,
)
from handoff.access import not_yours_to_update
from handoff.flowchart import NextStepKind, PathStep
from handoff.models import case_number_from
from handoff.policy import LEAVE_WARNING, TransferReason
from handoff.service import HandoffService
from handoff.user_settings import UserSettings
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock
from harness.dialog_user import CRITICAL_CASE, CRITICAL_NOTES
from harness.handoff_flow import CASE, CASE_FORM, NOTES_FORM, RECEIVER, TRANSFER_FORM, person
from harness.ids import DEFAULT_USER
from harness.records import PLACEHOLDER_OUTPUTS

REQUESTER = person(DEFAULT_USER)
OTHER = person(RECEIVER)
# Tuesday 10:00 UTC: EMEA is on shift, and its meeting with the US (08:30 Los Angeles) is today.
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", clock)
    yield opened
    await opened.close()


@pytest.fixture
def process() -> ProcessConfig:
    return load_process_config(DEFAULT_CONFIG_PATH)


@pytest.fixture
def deps(store: SqlStore, process: ProcessConfig, clock: FakeClock) -> HandoffDeps:
    return HandoffDeps(
        repository=store,
        service=HandoffService(store, clock),
        process=process,
        schedule=process.schedule(),
        clock=clock,
    )


def answered(**changes: object) -> dict[str, object]:
    """The answers of the example handoff (playground/scenario.json) with `changes`."""
    return {
        "case_number": CASE,
        "case": CASE_FORM,
        "transfer": TRANSFER_FORM,
        "notes": NOTES_FORM,
        **changes,
    }


def test_a_case_number_is_read_with_its_spaces_and_dashes_and_nothing_else_is() -> None:
    spaced = f"{CASE[:4]}-{CASE[4:8]} {CASE[8:]}"
    assert case_number_from(spaced) == CASE
    assert case_number_from(CASE[:5]) is None, "too short for a case number"
    assert case_number_from(f"case {CASE}") is None
    assert case_number_from("") is None


def test_card_values_leave_out_the_forms_own_keys() -> None:
    reply = Reply("", {"form": "case", "action": "next", **CASE_FORM}, REQUESTER)
    assert card_values(reply) == CASE_FORM
    assert card_values(Reply(CASE, None, REQUESTER)) is None


async def test_the_open_handoff_is_offered_only_to_whom_may_see_it(
    deps: HandoffDeps, clock: FakeClock
) -> None:
    assert await lookup_case(deps.repository, CASE, {}, REQUESTER) == {
        "case_number": CASE,
        "existing_id": None,
    }
    draft = Draft(deps, answered())
    stored = await deps.service.request(draft.handoff_answers(), PLACEHOLDER_OUTPUTS, REQUESTER)
    found = {"case_number": CASE, "existing_id": stored.id}
    assert await lookup_case(deps.repository, CASE, {}, REQUESTER) == found
    assert await lookup_case(deps.repository, CASE, {}, OTHER) == not_yours_to_update(CASE)
    everyone = {SEES_EVERY_CASE: True}
    assert await lookup_case(deps.repository, CASE, everyone, OTHER) == found


def test_times_are_shown_in_the_saved_zone_then_the_clients_then_utc(deps: HandoffDeps) -> None:
    saved = UserSettings(person=REQUESTER, timezone="Asia/Kolkata")
    client = {"reader_zone": "Europe/Berlin"}
    assert Draft(deps, {**client, SAVED_SETTINGS: saved_settings_answer(saved)}).reader_zone == (
        "Asia/Kolkata"
    )
    assert Draft(deps, client).reader_zone == "Europe/Berlin"
    assert Draft(deps, {}).reader_zone == "Etc/UTC"
    assert saved_settings_answer(None) == {}
    assert "person" not in saved_settings_answer(saved), "the person is not kept twice"


def test_answers_the_current_form_no_longer_reads_are_outdated(deps: HandoffDeps) -> None:
    # A region dropped from the configuration since the answers were kept.
    gone = answered(case={**CASE_FORM, "owner_region": "LATAM"})
    with pytest.raises(FormOutdated):
        Draft(deps, gone).case()
    with pytest.raises(FormOutdated):
        Draft(deps, answered(transfer={**TRANSFER_FORM, "kind": "sideways"})).transfer()


def test_a_handoff_the_customer_did_not_ask_for_must_say_why_unless_its_reason_is_accepted(
    deps: HandoffDeps,
) -> None:
    asked = Draft(deps, answered())
    assert not asked.needs_justification()
    not_asked = {**TRANSFER_FORM, "customer_asked": "false"}
    other = {**not_asked, "reason": TransferReason.OTHER.value, "reason_text": "Load balancing"}
    assert Draft(deps, answered(transfer=other)).needs_justification()
    # The same handoff of a critical (Sev A, 24x7) case needs no justification.
    critical = {**CASE_FORM, "severity": "A", "is_24x7": "true"}
    assert not Draft(deps, answered(case=critical, transfer=other)).needs_justification()


def test_the_meeting_question_plans_for_attending_whatever_was_answered_before(
    deps: HandoffDeps,
) -> None:
    draft = Draft(deps, answered(meeting={"can_attend": "no"}))
    assert draft.meeting_plan().kind is NextStepKind.ATTEND_MEETING
    step = draft.next_step()
    assert step.mail_dm, "nobody attends and no teammate holds it: the queue and a mail"
    assert PathStep.OWNER_UNAVAILABLE in step.path
    holds = {"can_attend": "no", "teammate_can_hold": "yes", "teammate": OTHER.name}
    assert Draft(deps, answered(meeting=holds)).next_step().kind is NextStepKind.TEAMMATE_ATTENDS


def test_a_transfer_within_the_region_is_reassigned_directly(deps: HandoffDeps) -> None:
    within = {
        **TRANSFER_FORM,
        "kind": "within",
        "target_region": CASE_FORM["owner_region"],
        "target_engineer": "emea-handoff-sme@example.invalid",
    }
    draft = Draft(deps, answered(transfer=within, meeting={"can_attend": "no"}))
    step = draft.next_step()
    assert step.kind is NextStepKind.REASSIGN
    assert step.path[0] is PathStep.WITHIN_REGION
    assert step.meeting is None
    # The address is a configured SME's: the handoff names them.
    assert draft.handoff_answers().target_engineer_name == "EMEA handoff SME"


def test_leave_is_no_reason_to_send_a_case_to_the_queue(deps: HandoffDeps) -> None:
    leave = {**TRANSFER_FORM, "reason": TransferReason.EXTENDED_TIME_OFF.value}
    to_queue = Draft(deps, answered(transfer=leave, meeting={"can_attend": "no"}))
    assert to_queue.warnings() == [LEAVE_WARNING]
    at_meeting = Draft(deps, answered(transfer=leave, meeting={"can_attend": "yes"}))
    assert at_meeting.warnings() == []


def test_the_owners_own_hours_come_before_their_regions_shift(deps: HandoffDeps) -> None:
    regional = Draft(deps, answered()).owner_shift_today()
    assert regional is not None and regional.region == CASE_FORM["owner_region"]
    own = UserSettings(person=REQUESTER, timezone="Asia/Kolkata", start=time(9, 0), end=time(17, 0))
    mine = Draft(deps, answered(**{SAVED_SETTINGS: saved_settings_answer(own)}))
    shift = mine.owner_shift_today()
    assert shift is not None
    assert shift.start == datetime(2026, 11, 24, 3, 30, tzinfo=UTC), "09:00 in Kolkata"
    assert shift.end == datetime(2026, 11, 24, 11, 30, tzinfo=UTC)


CRITICAL = answered(
    case=CRITICAL_CASE,
    transfer={
        **TRANSFER_FORM,
        "reason": TransferReason.NEEDS_SME.value,
        "reason_text": "Quota service experts are in the US",
        "target_engineer": "us-handoff-sme@example.invalid",
    },
    notes=CRITICAL_NOTES,
    qa=["Q: Which cluster? A: The production one"],
)


@pytest.mark.parametrize("answers", [answered(), CRITICAL], ids=["example", "critical"])
async def test_a_stored_handoff_reads_back_as_the_answers_it_was_made_from(
    deps: HandoffDeps, answers: dict[str, object]
) -> None:
    original = Draft(deps, answers).handoff_answers()
    stored = await deps.service.request(original, PLACEHOLDER_OUTPUTS, REQUESTER)
    again = Draft(deps, {"case_number": CASE, **raw_of(stored)}).handoff_answers()
    assert again == original


async def test_a_reason_an_update_retired_reads_back_as_other_with_the_words_kept(
    deps: HandoffDeps,
) -> None:
    stored = await deps.service.request(
        Draft(deps, answered()).handoff_answers(), PLACEHOLDER_OUTPUTS, REQUESTER
    )
    retired = stored.model_copy(update={"reason_code": "retired-reason"})
    transfer = raw_of(retired)["transfer"]
    assert transfer["reason"] == TransferReason.OTHER.value
    assert transfer["reason_text"] == stored.reason
    detailed = stored.model_copy(
        update={"reason": f"{TransferReason.CUSTOMER_TIME_ZONE.label}. Works from Chicago"}
    )
    assert raw_of(detailed)["transfer"]["reason_text"] == "Works from Chicago"


def test_a_message_the_dialog_was_opened_from_fills_in_the_notes() -> None:
    templated = {PASTED_MESSAGE: "Summary: Lag since Friday\nMSFT:\n- US SE: check the ACLs"}
    raw = notes_of_message(templated, "America/Chicago", needs_justification=False)
    assert raw["summary"] == "Lag since Friday"
    assert raw["next_steps_us"] == "US SE: check the ACLs"
    words = {PASTED_MESSAGE: "  Could US take it? " + "x" * 2000}
    summary = notes_of_message(words, "Etc/UTC", needs_justification=False)["summary"]
    assert summary.startswith("Could US take it?") and len(summary) == 800
    assert notes_of_message({}, "Etc/UTC", needs_justification=False) == {}
    assert notes_of_message({PASTED_MESSAGE: "  "}, "Etc/UTC", needs_justification=False) == {}


def test_the_message_stays_with_the_dialog_when_it_starts_over_with_another_case() -> None:
    assert PASTED_MESSAGE in CARRIED
