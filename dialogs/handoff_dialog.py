"""The handoff conversation (issue: R-24x7, R-NON24x7, R-COLLAB, R-TRANSFER, R-NOTES …).

Each step asks with a card and reads the answer through cards/ and handoff/; the rules live
there. Answers are kept as the cards' raw values, so a form asked again comes back filled in
and the dialog state stays plain JSON in the database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botbuilder.schema import Activity

from bot.card_messages import card_activity
from cards import handoff_forms as forms
from cards import notes_form
from cards.transfer_card import handoff_card
from config.process import ProcessConfig
from handoff import policy
from handoff.access import Viewer, may_update, not_yours_to_update
from handoff.errors import ConcurrencyConflict, IllegalTransition, NotFound
from handoff.flowchart import NextStep, NextStepKind, next_step, within_region_step
from handoff.models import CASE_NUMBER_PATTERN, Handoff, Person
from handoff.notes_parser import parse_notes
from handoff.notes_template import format_in_zone
from handoff.policy import TransferReason, dont_warnings, downgrade_hint
from handoff.ports import Clock, DuplicateOpenHandoff, HandoffRepository
from handoff.quality import check_notes
from handoff.request import HandoffAnswers, Queue, compose_outputs
from handoff.schedule import Schedule
from handoff.service import HandoffService
from handoff.user_settings import UserSettings, own_hours

from .form_flow import (
    Advance,
    Answers,
    Finish,
    FormDialog,
    FormOutdated,
    Outcome,
    Reply,
    Retry,
    Step,
)

HANDOFF_DIALOG = "handoff"
_CONTROL_KEYS = frozenset({"form", "action"})


@dataclass(frozen=True)
class HandoffDeps:
    repository: HandoffRepository
    service: HandoffService
    process: ProcessConfig
    schedule: Schedule
    clock: Clock

    @property
    def regions(self) -> tuple[str, ...]:
        return self.process.region_codes


def card_values(reply: Reply) -> dict[str, Any] | None:
    if reply.value is None:
        return None
    return {key: value for key, value in reply.value.items() if key not in _CONTROL_KEYS}


USE_THE_CARD = "Please answer with the card above: pick from its choices and press Next."


def case_number_from(text: str) -> str | None:
    candidate = re.sub(r"[\s-]", "", text)
    return candidate if re.fullmatch(CASE_NUMBER_PATTERN, candidate) else None


# Set when the dialog starts: whether the person may read any case's handoff (a lead, a member
# of the Case Transfer team), or only their own (handoff/access.py).
SEES_EVERY_CASE = "sees_every_case"
# Set when the dialog starts: what the person saved with `settings` (region, zone, hours), the
# first word on their region and zone, before their Teams client's and their region's.
SAVED_SETTINGS = "saved_settings"
# Answers that stay when the dialog starts over with another case.
CARRIED = ("reader_zone", SEES_EVERY_CASE, SAVED_SETTINGS)


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


class _Step(Step):
    def __init__(self, deps: HandoffDeps) -> None:
        self.deps = deps

    def draft(self, answers: Answers) -> Draft:
        return Draft(self.deps, answers)


class CaseNumberStep(_Step):
    name = "case_number"

    def applies(self, answers: Answers) -> bool:
        return "case_number" not in answers

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Activity | str]:
        return [*problems, "Which case do you want to hand off? Type its case number."]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        number = case_number_from(reply.text)
        if number is None:
            return Retry((f"“{reply.text[:40]}” is not a case number: use its 6 to 20 digits.",))
        # Another case (after going back): nothing said about the first one carries over.
        found = await lookup_case(self.deps.repository, number, answers, reply.user)
        if isinstance(found, str):
            return Retry((found,))
        return Advance(found, restart=True)


class ExistingStep(_Step):
    name = "existing"

    def applies(self, answers: Answers) -> bool:
        return bool(answers.get("existing_id")) and not answers.get("updating")

    async def _existing(self, answers: Answers) -> Handoff:
        return await self.deps.repository.get(answers["existing_id"])

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Activity | str]:
        existing = await self._existing(answers)
        zone = self.draft(answers).reader_zone
        return [card_activity(forms.existing_card(existing, zone))]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        if reply.value is None:
            return Retry((USE_THE_CARD,))
        existing = await self._existing(answers)
        if not existing.state.is_open:
            notice = (
                f"Meanwhile the handoff of case {existing.case.number} was "
                f"{existing.state.value}; this one starts afresh."
            )
            return Advance({"existing_id": None}, notices=(notice,))
        return Advance({"updating": True, "existing_version": existing.version, **raw_of(existing)})


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
    detail = handoff.reason.removeprefix(reason.label).removeprefix(".").strip()
    return {"reason": reason.value, "reason_text": detail}


class CaseStep(_Step):
    name = "case"

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Activity | str]:
        raw = dict(answers.get("case") or {})
        if "owner_region" not in raw:
            raw["owner_region"] = self._your_region(answers)
        card = forms.case_card(answers["case_number"], self.deps.regions, raw, problems)
        return [card_activity(card)]

    def _your_region(self, answers: Answers) -> str:
        """The region the person saved, else the one on shift now (whose engineer is most
        likely the one handing off)."""
        saved = self.draft(answers).saved
        if saved is not None and saved.region in self.deps.regions:
            return saved.region
        on_shift = self.deps.schedule.regions_on_shift(self.deps.clock.now())
        return on_shift[0] if on_shift else ""

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        raw = card_values(reply)
        if raw is None:
            return Retry((USE_THE_CARD,))
        result = forms.read_case(answers["case_number"], raw, self.deps.regions)
        if isinstance(result, list):
            return Retry(tuple(result), {"case": raw})
        if result.case.is_24x7 or result.case.severity.value == "A":
            hint = downgrade_hint(result.case)
            return Advance({"case": raw}, notices=(hint,) if hint else ())
        return Advance({"case": raw})


class TransferStep(_Step):
    name = "transfer"

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Activity | str]:
        case = self.draft(answers).case().case
        raw = answers.get("transfer") or {}
        return [card_activity(forms.transfer_card(case, self.deps.regions, raw, problems))]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        raw = card_values(reply)
        if raw is None:
            return Retry((USE_THE_CARD,))
        owner_region = self.draft(answers).case().owner_region
        result = forms.read_transfer(raw, self.deps.regions, owner_region)
        if isinstance(result, list):
            return Retry(tuple(result), {"transfer": raw})
        if result.kind == "collab" and not result.needs_collab_input:
            return Finish(
                (
                    "No handoff is needed: you no longer need input from the collaborating "
                    "team. Close the collaboration in the case tool instead.",
                )
            )
        return Advance({"transfer": raw})


class NotesStep(_Step):
    name = "notes"

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Activity | str]:
        draft = self.draft(answers)
        card = notes_form.notes_card(
            draft.case().case,
            answers.get("notes") or {},
            problems,
            needs_justification=draft.needs_justification(),
        )
        return [card_activity(card)]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        draft = self.draft(answers)
        case, needs = draft.case().case, draft.needs_justification()
        zone = case.customer_timezone
        raw = card_values(reply)
        pasted_text = reply.text if raw is None else str(raw.get("paste") or "")
        pasted = parse_notes(pasted_text, zone_name=zone)
        if raw is None:
            # Notes pasted as a message: read what the template gives, ask for the rest.
            notes_given = notes_form.pasted_notes(pasted, needs_justification=needs)
            raw = {**(answers.get("notes") or {}), **notes_form.notes_to_raw(notes_given, zone)}
            if pasted.steps_without_outcome:
                # Kept as written, so the card asks for their outcomes instead of losing them.
                raw["steps_tried"] = "\n".join(
                    [raw.get("steps_tried", ""), *pasted.steps_without_outcome]
                ).strip()
        transfer = notes_form.reason_for_transfer(
            pasted, answers.get("transfer") or {}, needs_justification=needs
        )
        also = {"transfer": transfer} if transfer is not None else {}
        notes = notes_form.read_notes(raw, zone, needs_justification=needs)
        if isinstance(notes, list):
            return Retry(tuple(notes), {"notes": raw, **also})
        clean_raw = notes_form.notes_to_raw(notes, zone)
        labels = notes_form.NOTE_LABELS
        problems = notes_form.too_long(notes) + [
            f"{labels.get(p.field, p.field)}: {p.message}"
            for p in check_notes(notes, case, reason_required=needs)
        ]
        if problems:
            return Retry(tuple(problems), {"notes": clean_raw, **also})
        return Advance({"notes": clean_raw, **also})


class ChecklistStep(_Step):
    name = "checklist"

    def applies(self, answers: Answers) -> bool:
        return (answers.get("transfer") or {}).get("kind") == "within"

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Activity | str]:
        case = self.draft(answers).case().case
        return [card_activity(forms.checklist_card(case, answers.get("checklist") or {}, problems))]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        raw = card_values(reply)
        if raw is None:
            return Retry((USE_THE_CARD,))
        problems = forms.read_checklist(raw)
        return (
            Retry(tuple(problems), {"checklist": raw}) if problems else Advance({"checklist": raw})
        )


class MeetingStep(_Step):
    name = "meeting"

    def applies(self, answers: Answers) -> bool:
        if (answers.get("transfer") or {}).get("kind") == "within":
            return False
        planned = self.draft(answers).meeting_plan()
        return planned.meeting is not None and not planned.mail_dm

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Activity | str]:
        draft = self.draft(answers)
        case = draft.case()
        planned = draft.meeting_plan()
        assert planned.meeting is not None
        meeting = planned.meeting.meeting
        when = format_in_zone(planned.meeting.at, draft.reader_zone)
        meeting_text = (
            f"The next handoff meeting, {meeting.from_region} → "
            f"{', '.join(meeting.to_regions)}, is on {when}."
        )
        sme_text = ""
        if case.case.is_critical:
            smes = self.deps.process.smes.get(case.owner_region, ())
            names = ", ".join(sme.name for sme in smes) or "your regional handoff SME"
            sme_text = f"If no teammate can: I have aligned with {names}"
        link = next(
            (m.link for m in self.deps.process.meetings if m.from_region == meeting.from_region),
            "",
        )
        if link:
            meeting_text += f" Join: {link}"
        in_hours = planned.kind is NextStepKind.ATTEND_MEETING
        if not in_hours:
            meeting_text += " It is after your shift ends, so you cannot attend it yourself."
        raw = answers.get("meeting") or {}
        card = forms.meeting_card(
            case.case, meeting_text, sme_text, raw, problems, ask_attendance=in_hours
        )
        return [card_activity(card)]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        raw = card_values(reply)
        if raw is None:
            return Retry((USE_THE_CARD,))
        raw.setdefault("can_attend", "no")
        problems = forms.read_meeting(raw)
        return Retry(tuple(problems), {"meeting": raw}) if problems else Advance({"meeting": raw})


class WarningsStep(_Step):
    name = "warnings"

    def applies(self, answers: Answers) -> bool:
        return bool(self.draft(answers).warnings())

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Activity | str]:
        draft = self.draft(answers)
        return [card_activity(forms.warnings_card(draft.case().case, draft.warnings()))]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        if reply.value is None:
            return Retry((USE_THE_CARD,))
        return Advance({"warnings_seen": True})


class ReviewStep(_Step):
    name = "review"

    def _outputs(self, answers: Answers) -> tuple[HandoffAnswers, Any]:
        draft = self.draft(answers)
        handoff_answers = draft.handoff_answers()
        queue = Queue(self.deps.process.queue.address, self.deps.process.queue.subject_prefix)
        outputs = compose_outputs(handoff_answers, draft.next_step(), queue)
        return handoff_answers, outputs

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Activity | str]:
        handoff_answers, outputs = self._outputs(answers)
        card = forms.review_card(
            handoff_answers.case, outputs, updating=bool(answers.get("updating"))
        )
        return [*problems, card_activity(card)]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        if reply.value is None:
            return Retry((USE_THE_CARD,))
        handoff_answers, outputs = self._outputs(answers)
        number = handoff_answers.case.number
        service = self.deps.service
        try:
            if answers.get("updating"):
                stored = await service.revise(
                    answers["existing_id"],
                    answers["existing_version"],
                    handoff_answers,
                    outputs,
                    reply.user,
                )
                done = f"Updated the open handoff of case {number}."
            else:
                stored = await service.request(handoff_answers, outputs, reply.user)
                done = (
                    f"Handoff of case {number} requested; it now waits for the receiving engineer."
                )
        except DuplicateOpenHandoff:
            existing = await self.deps.repository.open_for_case(number)
            if existing is not None and existing.requester.id == reply.user.id:
                # A second press of the button (or Teams redelivering it): already done.
                return Finish((f"The handoff of case {number} is already requested.",))
            if existing is not None and not may_update(
                existing, reply.user, bool(answers.get(SEES_EVERY_CASE))
            ):
                return Finish((not_yours_to_update(number),))
            # Someone else opened one meanwhile: offer to update theirs, answers kept.
            who = existing.requester.name if existing else "someone"
            return Retry(
                (
                    f"{who} opened a handoff for case {number} while you were writing this one. "
                    "Press the button to replace it with yours, or Cancel.",
                ),
                {
                    "updating": existing is not None,
                    "existing_id": existing.id if existing else None,
                    "existing_version": existing.version if existing else None,
                },
            )
        except (ConcurrencyConflict, IllegalTransition, NotFound):
            return Finish(
                (
                    f"The handoff of case {number} changed or closed while you were updating it. "
                    f"Type **handoff {number}** to start again from what it says now.",
                )
            )
        said: list[Activity | str] = [f"{done} Next step: {outputs.next_step}"]
        if stored.requester.id == reply.user.id:
            # The requester's own copy: Cancel and Back to queue are theirs, and shown only
            # here, where nobody else sees them.
            said.append(card_activity(handoff_card(stored, viewer=Viewer.REQUESTER)))
        return Finish(tuple(said))


def handoff_dialog(deps: HandoffDeps) -> FormDialog:
    steps: list[Step] = [
        CaseNumberStep(deps),
        ExistingStep(deps),
        CaseStep(deps),
        TransferStep(deps),
        NotesStep(deps),
        ChecklistStep(deps),
        MeetingStep(deps),
        WarningsStep(deps),
        ReviewStep(deps),
    ]
    return FormDialog(
        HANDOFF_DIALOG,
        steps,
        carried=CARRIED,
        cancelled_text="Handoff cancelled. Nothing was saved.",
        stale_text="That card belongs to an earlier step; here is the current one.",
        outdated_text=(
            "The handoff form changed with an update of the bot, so I could not carry on with "
            "the one you started. Type **handoff** to start again."
        ),
    )
