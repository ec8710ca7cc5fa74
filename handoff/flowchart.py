"""What the owner does next to move a case: the seed 000 flow chart (R-24x7-4, R-NON24x7-3).

``next_step`` walks the chart for one moment and returns one instruction, plus the path it took
so the audit trail can show why. The dialog asks the owner the questions (can you attend? can a
teammate hold it? have you aligned with the SME?) and calls again with the answers.

Reading of the spec, where it leaves room:

- The meeting is the next one from the owner's region to the target region. When the schedule
  has no meeting between those two regions at all (EMEA owner, APAC customer), the owner's
  region's own meeting is used: its receiving region passes the case on, follow-the-sun.
- "Within your hours" means the meeting starts within the owner's shift of the day: the one
  they are in, or before it begins the one they start later that day (the shift end is
  exclusive, like ``Schedule.current_shift``). After it, today has no hours left: the next
  shift is tomorrow's business.
- 24x7 (R-24x7-4): "no handoff meeting" (step a) means no meeting is held in the next 24 hours,
  the daily cycle; a meeting only next Monday is no help to a case that must move tonight.
  Step a jumps straight to step e: the SME alignment of step d belongs to the path through
  step c (no teammate), not to the weekend path. A meeting outside the owner's hours is step b
  ("cannot attend because it is outside your working hours"). After step e the owner stays with
  the case until another engineer takes it (R-STAY).
- Non-24x7 (R-NON24x7-3): a handoff call within the owner's hours is attended; otherwise the
  case goes back to the queue with the DM e-mail. When the owner cannot attend a call in their
  hours, the flow chart's "can a teammate take it until the call?" branch applies; without a
  teammate a non-critical case goes back to the queue (the SME is only for critical cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from i18n import _, formats

from .schedule import MeetingOccurrence, Schedule, Shift

# How far ahead a 24x7 case looks for "the" handoff meeting: one daily cycle.
CRITICAL_MEETING_HORIZON = timedelta(hours=24)


class NextStepKind(StrEnum):
    ATTEND_MEETING = "attend-meeting"
    TEAMMATE_ATTENDS = "teammate-attends"
    CONTACT_SME = "contact-sme"
    BACK_TO_QUEUE_AND_MAIL = "back-to-queue-and-mail"
    REASSIGN = "reassign"


class PathStep(StrEnum):
    """The labels of the flow chart's boxes and answers, as the audit trail records them."""

    CRITICAL = "24x7 case"
    NON_CRITICAL = "non-24x7 case"
    NO_MEETING = "no handoff meeting (receiving region off)"
    NO_MEETING_IN_HOURS = "no handoff call within owner's hours"
    MEETING = "handoff meeting found"
    OWNER_ATTENDS = "owner attends"
    OUTSIDE_HOURS = "meeting outside owner's hours"
    OWNER_UNAVAILABLE = "owner cannot attend"
    TEAMMATE_HOLDS = "teammate holds case and attends"
    NO_TEAMMATE = "no teammate can hold case"
    CONTACT_SME = "contact regional handoff SME"
    SME_ALIGNED = "aligned with regional handoff SME"
    BACK_TO_QUEUE = "transfer back to queue and e-mail DM"
    STAY = "stay with case until new owner"
    WITHIN_REGION = "transfer within the region"
    LONG_RUNNING_SHIFT_END = "long-running case: shift end"
    DIRECT_TO_NEXT_OWNER = "direct handoff to the next region's owner"
    MUST_DOS_DONE = "supervisor, receiving engineer and customer told"


@dataclass(frozen=True)
class NextStep:
    kind: NextStepKind
    instruction: str
    path: tuple[PathStep, ...]
    meeting: MeetingOccurrence | None = None
    # When to act: the meeting, or for the queue the end of the owner's shift (R-24x7-4e).
    act_at: datetime | None = None
    # R-STAY: a critical case leaves the owner only when another engineer has taken it.
    stay_with_case: bool = False

    @property
    def mail_dm(self) -> bool:
        return self.kind is NextStepKind.BACK_TO_QUEUE_AND_MAIL


def _meeting(
    schedule: Schedule, owner_region: str, target_region: str, now: datetime
) -> MeetingOccurrence | None:
    connects = any(
        meeting.from_region == owner_region and target_region in meeting.to_regions
        for meeting in schedule.meetings
    )
    return schedule.next_meeting(owner_region, now, target_region if connects else None)


def _meeting_route(occurrence: MeetingOccurrence) -> str:
    """The regions a meeting joins, as its name says them ("EMEA->US/APAC")."""
    meeting = occurrence.meeting
    return f"{meeting.from_region}->{'/'.join(meeting.to_regions)}"


def next_step(
    schedule: Schedule,
    owner_region: str,
    target_region: str,
    now: datetime,
    owner_can_attend: bool,
    teammate_can_hold: bool,
    critical: bool,
    *,
    sme_aligned: bool = False,
    reader_zone: str = "Etc/UTC",
    teammate: str = "",
    own_hours: Shift | None = None,
) -> NextStep:
    """The owner's next step for a case going from ``owner_region`` to ``target_region``.

    ``critical`` selects the 24x7 chart (R-24x7-4) over the non-24x7 one (R-NON24x7-3);
    ``sme_aligned`` is the answer to step d once the SME was contacted. Times in the
    instruction are shown in ``reader_zone``. The owner's hours are today's shift, the one
    they are in or, before it begins, the one they start later that day: ``own_hours`` when
    they set their own (`settings hours`), else their region's.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    if owner_region == target_region:
        raise ValueError(
            "a handoff within one region goes to a teammate directly, not through a regional "
            "handoff meeting"
        )
    shift = own_hours.todays(now) if own_hours else schedule.todays_shift(owner_region, now)
    shift_end = shift.end if shift is not None else None
    meeting = _meeting(schedule, owner_region, target_region, now)

    def back_to_queue(path: list[PathStep]) -> NextStep:
        path.append(PathStep.BACK_TO_QUEUE)
        if shift_end is not None:
            instruction = _(
                "At the end of your shift ({when}), transfer the case back to the queue and "
                "e-mail the DM for reassignment."
            ).format(when=formats.when(shift_end, reader_zone))
        else:
            instruction = _(
                "Now, transfer the case back to the queue and e-mail the DM for reassignment."
            )
        if critical:
            path.append(PathStep.STAY)
            instruction += " " + _("Stay with the case until another engineer has taken it.")
        return NextStep(
            kind=NextStepKind.BACK_TO_QUEUE_AND_MAIL,
            instruction=instruction,
            path=tuple(path),
            act_at=shift_end if shift_end is not None else now,
            stay_with_case=critical,
        )

    path: list[PathStep] = [PathStep.CRITICAL if critical else PathStep.NON_CRITICAL]
    in_hours = meeting is not None and shift is not None and shift.start <= meeting.at < shift.end

    if critical:
        if meeting is None or meeting.at > now + CRITICAL_MEETING_HORIZON:
            path.append(PathStep.NO_MEETING)
            return back_to_queue(path)
        path.append(PathStep.MEETING)
    else:
        if meeting is None or not in_hours:
            path.append(PathStep.NO_MEETING_IN_HOURS)
            return back_to_queue(path)
        path.append(PathStep.MEETING)

    said = {"route": _meeting_route(meeting), "when": formats.when(meeting.at, reader_zone)}
    if in_hours and owner_can_attend:
        path.append(PathStep.OWNER_ATTENDS)
        return NextStep(
            kind=NextStepKind.ATTEND_MEETING,
            # Translators: {route} names the regions of the meeting, e.g. "EMEA->US".
            instruction=_(
                "Attend the {route} handoff meeting at {when} and follow the instructions there."
            ).format(**said),
            path=tuple(path),
            meeting=meeting,
            act_at=meeting.at,
            stay_with_case=critical,
        )
    path.append(PathStep.OWNER_UNAVAILABLE if in_hours else PathStep.OUTSIDE_HOURS)
    if teammate_can_hold:
        path.append(PathStep.TEAMMATE_HOLDS)
        instruction = (
            _(
                "Transfer the case to {teammate}, who holds it and attends the {route} handoff "
                "meeting at {when} in your place."
            ).format(**said, teammate=teammate)
            if teammate
            else _(
                "Transfer the case to a teammate, who holds it and attends the {route} handoff "
                "meeting at {when} in your place."
            ).format(**said)
        )
        return NextStep(
            kind=NextStepKind.TEAMMATE_ATTENDS,
            instruction=instruction,
            path=tuple(path),
            meeting=meeting,
            act_at=meeting.at,
            stay_with_case=critical,
        )
    path.append(PathStep.NO_TEAMMATE)
    if not critical:
        return back_to_queue(path)
    if not sme_aligned:
        path.append(PathStep.CONTACT_SME)
        return NextStep(
            kind=NextStepKind.CONTACT_SME,
            instruction=_(
                "No teammate can hold the case before the {route} handoff meeting at {when}: "
                "contact your regional handoff SME and align with them before moving the case."
            ).format(**said),
            path=tuple(path),
            meeting=meeting,
            act_at=now,
            stay_with_case=True,
        )
    path.append(PathStep.SME_ALIGNED)
    return back_to_queue(path)


def within_region_step(receiver: str, critical: bool) -> NextStep:
    """R-TRANSFER: with its must-dos done, a case moving inside a region is reassigned directly;
    a critical one stays with its owner until the receiver has it (R-STAY)."""
    instruction = (
        _("Reassign the case to {receiver} in the case tool.").format(receiver=receiver)
        if receiver
        else _(
            "Reassign the case to the engineer you agreed with your supervisor in the case tool."
        )
    )
    path = (PathStep.WITHIN_REGION, PathStep.MUST_DOS_DONE)
    return NextStep(
        kind=NextStepKind.REASSIGN,
        instruction=instruction,
        path=(*path, PathStep.STAY) if critical else path,
        stay_with_case=critical,
    )
