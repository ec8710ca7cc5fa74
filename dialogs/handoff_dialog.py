"""The handoff conversation (issue: R-24x7, R-NON24x7, R-COLLAB, R-TRANSFER, R-NOTES …).

Each step asks with a card and reads the answer through cards/ and handoff/; the rules live
there. Answers are kept as the cards' raw values, so a form asked again comes back filled in
and the dialog state stays plain JSON in the database.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from application.request import Card, Said
from cards import handoff_forms as forms
from cards import notes_form
from cards.transfer_card import handoff_card
from handoff.access import Viewer, may_update, not_yours_to_update
from handoff.errors import ConcurrencyConflict, IllegalTransition, NotFound
from handoff.flowchart import NextStepKind
from handoff.models import AuditEntry, AuditKind, Handoff, Person, case_number_from
from handoff.notes.parser import parse_notes
from handoff.notes.quality import check_notes
from handoff.policy import downgrade_hint
from handoff.ports import DuplicateOpenHandoff
from handoff.request import HandoffAnswers, Queue, compose_outputs
from handoff.schedule import ShiftOccurrence
from handoff.state_machine import state_in_words
from i18n import N_, _, formats

from .form_flow import (
    Advance,
    Answers,
    Finish,
    FormDialog,
    Outcome,
    Reply,
    Retry,
    Step,
)
from .handoff_draft import (
    CARRIED,
    SEES_EVERY_CASE,
    Draft,
    HandoffDeps,
    card_values,
    lookup_case,
    notes_of_message,
    raw_of,
    use_the_card,
)

HANDOFF_DIALOG = "handoff"

log = logging.getLogger(__name__)


class _Step(Step):
    def __init__(self, deps: HandoffDeps) -> None:
        self.deps = deps

    def draft(self, answers: Answers) -> Draft:
        return Draft(self.deps, answers)


class CaseNumberStep(_Step):
    name = "case_number"

    def applies(self, answers: Answers) -> bool:
        return "case_number" not in answers

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Said]:
        return [*problems, _("Which case do you want to hand off? Type its case number.")]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        number = case_number_from(reply.text)
        if number is None:
            said = _("“{text}” is not a case number: use its 6 to 20 digits.")
            return Retry((said.format(text=reply.text[:40]),))
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

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Said]:
        existing = await self._existing(answers)
        zone = self.draft(answers).reader_zone
        return [Card(forms.existing_card(existing, zone))]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        if reply.value is None:
            return Retry((use_the_card(),))
        existing = await self._existing(answers)
        if not existing.state.is_open:
            notice = _(
                "Meanwhile the handoff of case {number} was {state}; this one starts afresh."
            ).format(number=existing.case.number, state=state_in_words(existing.state))
            return Advance({"existing_id": None}, notices=(notice,))
        if answers.get("updating"):
            # Back here after editing it: the edits stay, and so does the version they were
            # made on, so a change someone made meanwhile is still caught at the review.
            return Advance({})
        return Advance({"updating": True, "existing_version": existing.version, **raw_of(existing)})


class CaseStep(_Step):
    name = "case"

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Said]:
        raw = dict(answers.get("case") or {})
        if "owner_region" not in raw:
            raw["owner_region"] = self._your_region(answers)
        card = forms.case_card(answers["case_number"], self.deps.regions, raw, problems)
        return [Card(card)]

    def _your_region(self, answers: Answers) -> str:
        """The region the person saved, else the one whose hours are kept in the zone nearest
        their Teams client's, else the one on shift now (whose engineer is most likely the
        one handing off)."""
        saved = self.draft(answers).saved
        if saved is not None and saved.region in self.deps.regions:
            return saved.region
        now = self.deps.clock.now()
        client_zone = answers.get("reader_zone")
        if isinstance(client_zone, str) and client_zone:
            nearest = self.deps.schedule.region_nearest(client_zone, now)
            if nearest is not None:
                return nearest
        on_shift = self.deps.schedule.regions_on_shift(now)
        return on_shift[0] if on_shift else ""

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        raw = card_values(reply)
        if raw is None:
            return Retry((use_the_card(),))
        result = forms.read_case(answers["case_number"], raw, self.deps.regions)
        if isinstance(result, list):
            return Retry(tuple(result), {"case": raw})
        if result.case.is_24x7 or result.case.severity.value == "A":
            hint = downgrade_hint(result.case)
            return Advance({"case": raw}, notices=(hint,) if hint else ())
        return Advance({"case": raw})


class TransferStep(_Step):
    name = "transfer"

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Said]:
        case = self.draft(answers).case().case
        raw = answers.get("transfer") or {}
        return [Card(forms.transfer_card(case, self.deps.regions, raw, problems))]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        raw = card_values(reply)
        if raw is None:
            return Retry((use_the_card(),))
        owner_region = self.draft(answers).case().owner_region
        result = forms.read_transfer(raw, self.deps.regions, owner_region)
        if isinstance(result, list):
            return Retry(tuple(result), {"transfer": raw})
        if result.kind == "collab" and not result.needs_collab_input:
            return Finish(
                (
                    _(
                        "No handoff is needed: you no longer need input from the collaborating "
                        "team. Close the collaboration in the case tool instead."
                    ),
                )
            )
        return Advance({"transfer": raw})


class NotesStep(_Step):
    name = "notes"

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Said]:
        draft = self.draft(answers)
        case, needs = draft.case().case, draft.needs_justification()
        # Until the notes are first answered, a handoff opened from a message shows its notes.
        raw = answers.get("notes") or notes_of_message(answers, case.customer_timezone, needs)
        card = notes_form.notes_card(case, raw, problems, needs_justification=needs)
        return [Card(card)]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        draft = self.draft(answers)
        case, needs = draft.case().case, draft.needs_justification()
        zone = case.customer_timezone
        raw = card_values(reply)
        pasted_text = reply.text if raw is None else str(raw.get("paste") or "")
        pasted = parse_notes(pasted_text, zone_name=zone)
        if raw is None:
            # Notes pasted as a message: read what the template gives, ask for the rest.
            given = notes_form.pasted_raw(pasted, zone, needs_justification=needs)
            raw = {**(answers.get("notes") or {}), **given}
        transfer = notes_form.reason_for_transfer(
            pasted, answers.get("transfer") or {}, needs_justification=needs
        )
        also = {"transfer": transfer} if transfer is not None else {}
        notes = notes_form.read_notes(raw, zone, needs_justification=needs)
        if isinstance(notes, list):
            return Retry(tuple(notes), {"notes": raw, **also})
        clean_raw = notes_form.notes_to_raw(notes, zone)
        labels = notes_form.note_labels()
        quality = check_notes(notes, case, reason_required=needs)
        # Translators: a problem with the notes, after the name of the field to fix.
        said = _("{field}: {problem}")
        problems = notes_form.too_long(notes) + [
            said.format(field=_(labels.get(p.field, p.field)), problem=p.message) for p in quality
        ]
        if quality:
            await self._record_refusal(case.number, reply.user, [p.field for p in quality])
        if problems:
            return Retry(tuple(problems), {"notes": clean_raw, **also})
        return Advance({"notes": clean_raw, **also})

    async def _record_refusal(self, case_number: str, person: Person, fixes: list[str]) -> None:
        if self.deps.audit_log is None:
            return
        entry = AuditEntry(
            kind=AuditKind.NOTES_REFUSED,
            actor=person,
            at=self.deps.clock.now(),
            subject=case_number,
            data={"fixes": sorted(set(fixes))},
        )
        # The dialog's own state is on the same database: if this write fails, so would the
        # turn's, and the engineer is asked to try again either way.
        await self.deps.audit_log.add_audit_entry(entry)


class ChecklistStep(_Step):
    name = "checklist"

    def applies(self, answers: Answers) -> bool:
        return (answers.get("transfer") or {}).get("kind") == "within"

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Said]:
        case = self.draft(answers).case().case
        return [Card(forms.checklist_card(case, answers.get("checklist") or {}, problems))]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        raw = card_values(reply)
        if raw is None:
            return Retry((use_the_card(),))
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

    def askable(self, answers: Answers) -> bool:
        return self.applies(answers)

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Said]:
        draft = self.draft(answers)
        case = draft.case()
        planned = draft.meeting_plan()
        assert planned.meeting is not None
        meeting = planned.meeting.meeting
        meeting_text = _("The next handoff meeting, {route}, is on {when}.").format(
            route=f"{meeting.from_region} → {formats.listing(meeting.to_regions)}",
            when=formats.when(planned.meeting.at, draft.reader_zone),
        )
        sme_text = ""
        if case.case.is_critical:
            smes = self.deps.process.smes.get(case.owner_region, ())
            names = formats.listing([sme.name for sme in smes], alternatives=True)
            sme_text = (
                _("If no teammate can: I have aligned with {names}").format(names=names)
                if names
                else _("If no teammate can: I have aligned with your regional handoff SME")
            )
        link = next(
            (m.link for m in self.deps.process.meetings if m.from_region == meeting.from_region),
            "",
        )
        if link:
            meeting_text += " " + _("Join: {link}").format(link=link)
        in_hours = planned.kind is NextStepKind.ATTEND_MEETING
        if not in_hours:
            meeting_text += " " + outside_your_hours(planned.meeting.at, draft.owner_shift_today())
        raw = answers.get("meeting") or {}
        card = forms.meeting_card(
            case.case, meeting_text, sme_text, raw, problems, ask_attendance=in_hours
        )
        return [Card(card)]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        raw = card_values(reply)
        if raw is None:
            return Retry((use_the_card(),))
        raw.setdefault("can_attend", "no")
        problems = forms.read_meeting(raw)
        return Retry(tuple(problems), {"meeting": raw}) if problems else Advance({"meeting": raw})


class WarningsStep(_Step):
    name = "warnings"

    def applies(self, answers: Answers) -> bool:
        return bool(self.draft(answers).warnings())

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Said]:
        draft = self.draft(answers)
        return [Card(forms.warnings_card(draft.case().case, draft.warnings()))]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        if reply.value is None:
            return Retry((use_the_card(),))
        return Advance({"warnings_seen": True})


class ReviewStep(_Step):
    name = "review"

    def _outputs(self, answers: Answers) -> tuple[HandoffAnswers, Any]:
        draft = self.draft(answers)
        handoff_answers = draft.handoff_answers()
        queue = Queue(self.deps.process.queue.address, self.deps.process.queue.subject_prefix)
        outputs = compose_outputs(handoff_answers, draft.next_step(), queue)
        return handoff_answers, outputs

    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Said]:
        handoff_answers, outputs = self._outputs(answers)
        card = forms.review_card(
            handoff_answers.case, outputs, updating=bool(answers.get("updating"))
        )
        return [*problems, Card(card)]

    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        if reply.value is None:
            return Retry((use_the_card(),))
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
                done = _("Updated the open handoff of case {number}. Next step: {step}")
            else:
                stored = await service.request(handoff_answers, outputs, reply.user)
                done = _(
                    "Handoff of case {number} requested; it now waits for the receiving "
                    "engineer. Next step: {step}"
                )
        except DuplicateOpenHandoff:
            existing = await self.deps.repository.open_for_case(number)
            if existing is not None and existing.requester.id == reply.user.id:
                # A second press of the button (or Teams redelivering it): already done.
                already = _("The handoff of case {number} is already requested.")
                return Finish((already.format(number=number),))
            if existing is not None and not may_update(
                existing, reply.user, bool(answers.get(SEES_EVERY_CASE))
            ):
                return Finish((not_yours_to_update(number),))
            # Someone else opened one meanwhile: offer to update theirs, answers kept.
            who = existing.requester.name if existing else ""
            opened = (
                _(
                    "{name} opened a handoff for case {number} while you were writing this one. "
                    "Press the button to replace it with yours, or Cancel."
                )
                if who
                else _(
                    "Someone opened a handoff for case {number} while you were writing this one. "
                    "Press the button to replace it with yours, or Cancel."
                )
            )
            return Retry(
                (opened.format(name=who, number=number),),
                {
                    "updating": existing is not None,
                    "existing_id": existing.id if existing else None,
                    "existing_version": existing.version if existing else None,
                },
            )
        except (ConcurrencyConflict, IllegalTransition, NotFound):
            # Translators: keep **handoff {number}** as it is: it is the command typed.
            changed = _(
                "The handoff of case {number} changed or closed while you were updating it. "
                "Type **handoff {number}** to start again from what it says now."
            )
            return Finish((changed.format(number=number),))
        # The operator's trace of a request (with its turn_id): what was stored, by whom.
        log.info(
            "handoff updated" if answers.get("updating") else "handoff requested",
            extra={"case": number, "handoff_id": stored.id, "version": stored.version},
        )
        said: list[Said] = [done.format(number=number, step=outputs.next_step)]
        if stored.requester.id == reply.user.id:
            # The requester's own copy: Cancel and Back to queue are theirs, and shown only
            # here, where nobody else sees them. With the time: a next contact already past
            # says so at once.
            template = self.deps.process.case_system.url_template
            card = handoff_card(
                stored,
                viewer=Viewer.REQUESTER,
                now=self.deps.clock.now(),
                case_url_template=template,
            )
            said.append(Card(card))
        return Finish(tuple(said))


def outside_your_hours(meeting_at: datetime, shift: ShiftOccurrence | None) -> str:
    """Why the owner cannot attend the meeting themselves, said from where it falls against
    their shift of today's date (None: they do not work today)."""
    if shift is None:
        return _("You are not working today, so you cannot attend it yourself.")
    if meeting_at < shift.start:
        return _("It is before your shift starts, so you cannot attend it yourself.")
    return _("It is after your shift ends, so you cannot attend it yourself.")


# The steps that read typed text (a case number, pasted notes); every other step answers with
# its card, so words typed meanwhile may answer something else.
TEXT_STEPS = frozenset({CaseNumberStep.name, NotesStep.name})


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
        cancelled_text=N_("Handoff cancelled. Nothing was saved."),
        stale_text=N_("That card belongs to an earlier step; here is the current one."),
        # Translators: keep **handoff** as it is: it is the command typed.
        outdated_text=N_(
            "The handoff form changed with an update of the bot, so I could not carry on with "
            "the one you started. Type **handoff** to start again."
        ),
    )
