"""R-OOF: the out-of-office form and the Team Leader's list of cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff.oof import OofKind, TaLine, no_batch_to_queue

from .elements import (
    Json,
    card,
    choice_set,
    clip,
    date_input,
    heading,
    more_line,
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
        heading("Out of office"),
        *problems_block(problems),
        choice_set(
            "kind",
            "What kind of absence?",
            [(kind.value, kind.label) for kind in OofKind],
            str(raw.get("kind") or ""),
            expanded=True,
        ),
        date_input("first_day", "First day away", str(raw.get("first_day") or "")),
        date_input("back_on", "Back on", str(raw.get("back_on") or "")),
        text_input(
            "teammate",
            "E-mail of the teammate who takes your critical cases (warm handoff)",
            str(raw.get("teammate") or ""),
            max_length=200,
        ),
        text(no_batch_to_queue(), subtle=True),
    ]
    return card(body, [submit("Plan my time away", {"command": OOF_FORM}, style="positive")])


def ta_list_card(owner: str, kind: OofKind, lines: Sequence[TaLine]) -> Json:
    body: list[Json] = [
        heading(f"{safe(owner)} is out of office ({kind.label.lower()})"),
        text("Their cases for you to place, critical first:"),
    ]
    ordered = sorted(lines, key=lambda entry: not entry.critical)
    for line in ordered[:MAX_TA_LINES]:
        badge = "critical · " if line.critical else ""
        body.append(
            text(
                f"**{line.case_number}** · {badge}{safe(clip(line.product, 60))} · {line.status}\n"
                f"{safe(line.description)}"
            )
        )
    if len(ordered) > MAX_TA_LINES:
        # The critical ones come first, so what is left out is the least urgent.
        body.append(more_line(len(ordered) - MAX_TA_LINES, f"cases: ask {safe(owner)} for them"))
    return card(body)
