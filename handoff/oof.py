"""R-OOF: what an engineer's time away means for their cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from babel.dates import format_skeleton

from i18n import N_, _, formats

from .models import Handoff


class OofKind(StrEnum):
    PLANNED_SHORT = "planned-short"
    PLANNED_LONG = "planned-long"
    UNEXPECTED_SHORT = "unexpected-short"
    UNEXPECTED_LONG = "unexpected-long"

    @property
    def label(self) -> str:
        return _(_LABELS[self])


_LABELS = {
    OofKind.PLANNED_SHORT: N_("Planned, one week or less"),
    OofKind.PLANNED_LONG: N_("Planned, longer than a week"),
    OofKind.UNEXPECTED_SHORT: N_("Unexpected, short"),
    OofKind.UNEXPECTED_LONG: N_("Unexpected, long"),
}


def no_batch_to_queue() -> str:
    return _(
        "Cases are not pushed back to the queue in a batch: the critical ones get a warm "
        "handoff to a teammate, the others go on the list for your Team Leader."
    )


@dataclass(frozen=True)
class TaLine:
    """One case on the Team Leader's list: number, product, brief description and status."""

    case_number: str
    product: str
    description: str
    status: str
    critical: bool


@dataclass(frozen=True)
class OofPlan:
    hand_off: tuple[Handoff, ...]
    ta_list: tuple[TaLine, ...]
    auto_reply: str
    take_back: bool


def plan(
    kind: OofKind,
    owned: Sequence[Handoff],
    first_day: dt.date,
    back_on: dt.date,
    phone_numbers: Mapping[str, str],
) -> OofPlan:
    """Which cases get a warm handoff and which go on the TA's list, for this kind of absence.

    Critical (Sev A 24x7) cases always get a warm handoff; the others stay with the owner for
    a short planned absence and go on the Team Leader's list otherwise, critical first.
    """
    critical = tuple(h for h in owned if h.case.is_critical)
    others = tuple(h for h in owned if not h.case.is_critical)
    listed = others if kind is not OofKind.PLANNED_SHORT else ()
    if kind is OofKind.UNEXPECTED_LONG:
        listed = critical + others
    lines = tuple(
        TaLine(
            case_number=h.case.number,
            product=h.case.product_skill,
            description=(h.notes.summary or h.reason)[:160],
            status=h.case.status.value,
            critical=h.case.is_critical,
        )
        for h in listed
    )
    phones = "; ".join(f"{region} {number}" for region, number in phone_numbers.items())
    # For the engineer's customers and colleagues, in the engineer's language; the dates as
    # it writes a weekday and a day (the first without its year).
    auto_reply = _(
        "I am out of the office from {first_day} and back on {back_on}. Your case is in the "
        "hands of my team; for urgent help call support: {phones}."
    ).format(
        first_day=format_skeleton("MMMEd", first_day, locale=formats.locale()),
        back_on=format_skeleton("yMMMEd", back_on, locale=formats.locale()),
        phones=phones,
    )
    return OofPlan(hand_off=critical, ta_list=lines, auto_reply=auto_reply, take_back=bool(owned))
