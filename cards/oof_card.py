"""R-OOF: the out-of-office form and the Team Leader's list of cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff.models import CaseStatus
from handoff.oof import OofKind, TaLine, no_batch_to_queue
from i18n import _, ngettext

from .case_form import status_words
from .elements import (
    Json,
    card,
    choice_set,
    clip,
    date_input,
    heading,
    more_line,
    name_text,
    problems_block,
    safe,
    submit,
    text,
    text_input,
)

OOF_FORM = "oof"
# A list longer than this would pass Teams' message limit; the rest is counted.
MAX_TA_LINES = 30


def oof_card(raw: Mapping[str, Any], problems: Sequence[str]) -> Json:
    body = [
        heading(_("Out of office")),
        *problems_block(problems),
        choice_set(
            "kind",
            _("What kind of absence?"),
            [(kind.value, kind.label) for kind in OofKind],
            str(raw.get("kind") or ""),
            expanded=True,
        ),
        date_input("first_day", _("First day away"), str(raw.get("first_day") or "")),
        date_input("back_on", _("Back on"), str(raw.get("back_on") or "")),
        text_input(
            "teammate",
            _("E-mail of the teammate who takes your critical cases (warm handoff)"),
            str(raw.get("teammate") or ""),
            max_length=200,
        ),
        text(no_batch_to_queue(), subtle=True),
    ]
    return card(body, [submit(_("Plan my time away"), {"command": OOF_FORM}, style="positive")])


def _status(value: str) -> str:
    try:
        return status_words(CaseStatus(value), inline=True)
    except ValueError:
        return value  # a status the case tool knows and we do not: shown as it came


def ta_list_card(owner: str, kind: OofKind, lines: Sequence[TaLine]) -> Json:
    who = name_text(owner)
    body: list[Json] = [
        # Translators: {kind} is the kind of absence, e.g. "Planned, one week or less".
        heading(_("{name} is out of office ({kind})").format(name=who, kind=kind.label)),
        text(_("Their cases for you to place, critical first:")),
    ]
    ordered = sorted(lines, key=lambda entry: not entry.critical)
    for line in ordered[:MAX_TA_LINES]:
        badge = _("critical") + " · " if line.critical else ""
        body.append(
            text(
                f"**{line.case_number}** · {badge}{safe(clip(line.product, 60))} · "
                f"{_status(line.status)}\n"
                f"{safe(line.description)}"
            )
        )
    more = len(ordered) - MAX_TA_LINES
    if more > 0:
        # The critical ones come first, so what is left out is the least urgent.
        body.append(
            more_line(
                ngettext(
                    "{count} more case: ask {name} for it",
                    "{count} more cases: ask {name} for them",
                    more,
                ).format(count=more, name=who)
            )
        )
    return card(body)
