"""What the handoff dialog knows between its steps: the answers kept so far and what they
mean (the case, the transfer, the next step of the flow chart), the person's saved settings,
and the case's open handoff, if they may see it. The steps themselves are in
dialogs/handoff_dialog.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards import handoff_forms as forms
from cards import notes_form
from cards.elements import clip
from config.process import ProcessConfig
from handoff import policy
from handoff.access import may_update, not_yours_to_update
from handoff.flowchart import NextStep, next_step, within_region_step
from handoff.models import Handoff, Person
from handoff.notes.parser import parse_notes
from handoff.policy import TransferReason, dont_warnings
from handoff.ports import AuditLog, Clock, HandoffRepository
from handoff.request import HandoffAnswers
from handoff.schedule import Schedule, ShiftOccurrence
from handoff.service import HandoffService
from handoff.user_settings import UserSettings, own_hours
from i18n import _, in_english

from .form_flow import Answers, FormOutdated, Reply

_CONTROL_KEYS = frozenset({"form", "action"})


@dataclass(frozen=True)
class HandoffDeps:
    repository: HandoffRepository
    service: HandoffService
    process: ProcessConfig
    schedule: Schedule
    clock: Clock
    # Where the notes step records the notes the quality check refused (for `insights`).
    audit_log: AuditLog | None = None

    @property
    def regions(self) -> tuple[str, ...]:
        return self.process.region_codes


def card_values(reply: Reply) -> dict[str, Any] | None:
    if reply.value is None:
        return None
    return {key: value for key, value in reply.value.items() if key not in _CONTROL_KEYS}


def use_the_card() -> str:
    return _("Please answer with the card above: pick from its choices and press Next.")


# Set when the dialog starts: whether the person may read any case's handoff (a lead, a member
# of the Case Transfer team), or only their own (handoff/access.py).
SEES_EVERY_CASE = "sees_every_case"
# Set when the dialog starts: what the person saved with `settings` (region, zone, hours), the
# first word on their region and zone, before their Teams client's and their region's.
SAVED_SETTINGS = "saved_settings"
# Set when the dialog is opened from a message (the compose box's "Hand off this case"): the
# message's text, read into the notes form until its notes are first answered.
PASTED_MESSAGE = "pasted_message"
# Set with it: the key of the outbox item that began the dialog, so that a retry of the item
# (its turn done, its completion not recorded) finds the dialog begun and does not object to it.
OPENED_BY = "opened_by"
# Answers that stay when the dialog starts over with another case.
CARRIED = ("reader_zone", SEES_EVERY_CASE, SAVED_SETTINGS, PASTED_MESSAGE)


def saved_settings_answer(settings: UserSettings | None) -> Answers:
    """A person's saved settings as dialog state (plain JSON)."""
    return settings.model_dump(mode="json", exclude={"person"}) if settings else {}


async def lookup_case(
    repository: HandoffRepository, number: str, answers: Answers, user: Person
) -> Answers | str:
    """The answers that a case number brings: the open handoff to update, if there is one and
    the person may see it; else why the case cannot be handed off by them."""
    existing = await repository.open_for_case(number)
    if existing is not None and not may_update(existing, user, bool(answers.get(SEES_EVERY_CASE))):
        return not_yours_to_update(number)
    return {"case_number": number, "existing_id": existing.id if existing else None}


def notes_of_message(answers: Answers, zone_name: str, needs_justification: bool) -> Answers:
    """The notes form's values that the message the dialog was opened from gives (none
    without one): its notes in the team's template, or, when it holds none, its text as the
    summary."""
    text = answers.get(PASTED_MESSAGE)
    if not isinstance(text, str) or not text.strip():
        return {}
    parsed = parse_notes(text, zone_name=zone_name)
    if not parsed.found():
        return {"summary": clip(text.strip(), notes_form.NOTE_LIMITS["summary"])}
    return dict(notes_form.pasted_raw(parsed, zone_name, needs_justification=needs_justification))


# --- reading the answers kept so far --------------------------------------------------------


class Draft:
    """Typed views of the answers; only asked for once their step has validated them."""

    def __init__(self, deps: HandoffDeps, answers: Answers) -> None:
        self._deps = deps
        self._answers = answers

    @property
    def saved(self) -> UserSettings | None:
        raw = self._answers.get(SAVED_SETTINGS)
        if not raw:
            return None
        return UserSettings.model_validate({**raw, "person": {"id": "saved"}})

    @property
    def reader_zone(self) -> str:
        """Times are shown in the zone the person saved, else their client's, else UTC."""
        saved = self.saved
        chosen = saved.timezone if saved else None
        return str(chosen or self._answers.get("reader_zone") or "Etc/UTC")

    def case(self) -> forms.CaseAnswers:
        result = forms.read_case(
            self._answers["case_number"], self._answers.get("case", {}), self._deps.regions
        )
        if not isinstance(result, forms.CaseAnswers):
            raise FormOutdated(result)
        return result

    def transfer(self) -> forms.TransferAnswers:
        result = forms.read_transfer(
            self._answers.get("transfer", {}), self._deps.regions, self.case().owner_region
        )
        if not isinstance(result, forms.TransferAnswers):
            raise FormOutdated(result)
        return result

    def needs_justification(self) -> bool:
        transfer = self.transfer()
        return policy.needs_justification(
            self.case().case,
            transfer.reason,
            transfer.customer_asked,
            within_region=transfer.target_region == self.case().owner_region,
        )

    def handoff_answers(self) -> HandoffAnswers:
        case, transfer = self.case(), self.transfer()
        zone, needs = case.case.customer_timezone, self.needs_justification()
        notes = notes_form.read_notes(
            self._answers.get("notes", {}), zone, needs_justification=needs
        )
        if isinstance(notes, list):
            raise FormOutdated(notes)
        # The receiving side's answered questions, kept when the handoff is updated.
        notes = notes.model_copy(update={"questions_answered": tuple(self._answers.get("qa", ()))})
        return HandoffAnswers(
            case=case.case,
            owner_region=case.owner_region,
            target_region=transfer.target_region,
            kind_choice=transfer.kind,
            reason=transfer.reason_line,
            notes=notes,
            target_engineer=transfer.target_engineer,
            # Known when the address is a configured SME's or lead's: shown instead of it.
            target_engineer_name=self._deps.process.name_for_address(transfer.target_engineer),
            reason_code=transfer.reason.value,
            customer_asked=transfer.customer_asked,
        )

    def owner_shift_today(self) -> ShiftOccurrence | None:
        """The owner's shift that starts on today's date in its zone, whether it is still to
        come, under way or over: their own hours if they saved them, else their region's."""
        shift = own_hours(self.saved) or self._deps.schedule.shift_of(self.case().owner_region)
        if shift is None:
            return None
        return shift.occurrence_on(self._deps.clock.now().astimezone(shift.zone).date())

    def meeting_plan(self) -> NextStep:
        """The next step as the meeting question finds it, before it is answered (whatever
        was answered to it before the person went back)."""
        return self.next_step(meeting={"can_attend": "yes"})

    def next_step(self, *, meeting: dict[str, Any] | None = None) -> NextStep:
        case, transfer = self.case(), self.transfer()
        if transfer.target_region == case.owner_region:
            # Within the region (or a collaboration there): no meeting, a direct transfer.
            return within_region_step(transfer.target_engineer, case.case.is_critical)
        if meeting is None:
            meeting = self._answers.get("meeting", {})
        attending = meeting.get("can_attend") == "yes"
        return next_step(
            self._deps.schedule,
            case.owner_region,
            transfer.target_region,
            self._deps.clock.now(),
            owner_can_attend=attending,
            teammate_can_hold=meeting.get("teammate_can_hold") == "yes",
            critical=case.case.is_critical,
            sme_aligned=meeting.get("sme_aligned") == "true",
            reader_zone=self.reader_zone,
            own_hours=own_hours(self.saved),
            teammate=str(meeting.get("teammate") or "")
            if meeting.get("teammate_can_hold") == "yes"
            else "",
        )

    def warnings(self) -> list[str]:
        transfer = self.transfer()
        return dont_warnings(
            transfer.resolved_pending,
            transfer.reason,
            transfer.severity_raise,
            target_is_queue=self.next_step().mail_dm,
        )


# --- the steps -------------------------------------------------------------------------------


def raw_of(handoff: Handoff) -> Answers:
    """The forms' values for a stored handoff, so updating it starts from what it says."""
    case = handoff.case
    kind = {"within-region": "within", "collaboration": "collab"}.get(handoff.kind.value, "between")
    return {
        "case": {
            "title": case.title,
            "severity": case.severity.value,
            "is_24x7": "true" if case.is_24x7 else "false",
            "plan": case.plan.value,
            "product_skill": case.product_skill,
            "customer_region": case.customer_region,
            "customer_timezone": case.customer_timezone,
            "status": case.status.value,
            "language_needs": case.language_needs or "",
            "customer_language": case.customer_language,
            "owner_region": handoff.from_region,
        },
        "transfer": {
            "kind": kind,
            "target_region": handoff.target_region,
            "target_engineer": handoff.target_engineer.id if handoff.target_engineer else "",
            **_reason_raw(handoff),
            "customer_asked": "true" if handoff.customer_asked else "false",
            "needs_collab_input": "true",
        },
        "notes": notes_form.notes_to_raw(handoff.notes, case.customer_timezone),
        "qa": list(handoff.notes.questions_answered),
    }


def _reason_raw(handoff: Handoff) -> dict[str, str]:
    try:
        reason = TransferReason(handoff.reason_code or TransferReason.OTHER.value)
    except ValueError:
        reason = TransferReason.OTHER
    if reason is TransferReason.OTHER:
        return {"reason": reason.value, "reason_text": handoff.reason}
    # The record keeps the reason's label in English (TransferAnswers.reason_line).
    with in_english():
        label = reason.label
    detail = handoff.reason.removeprefix(label).removeprefix(".").strip()
    return {"reason": reason.value, "reason_text": detail}
