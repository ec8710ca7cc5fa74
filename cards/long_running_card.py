"""R-LONG: the card where the owner confirms or changes the regional owners of a long-running
case, and says what the customer prefers, before its group chat is made."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from handoff.long_running import ChatMember

from .elements import Json, card, choice_set, heading, problems_block, submit, text, text_input

CHAT_OWNERS = "chat_owners"
PREFERENCES: tuple[tuple[str, str], ...] = (
    ("global", "Global engineers: one owner per region, in a group chat"),
    ("regional", "One regional engineer keeps the case (high severity)"),
)


def owner_field(region: str) -> str:
    return f"owner_{region}"


def owners_card(
    case_number: str,
    regions: Sequence[str],
    proposed: Sequence[ChatMember],
    raw: Mapping[str, Any],
    problems: Sequence[str],
) -> Json:
    by_region = {member.region: member for member in proposed}
    body: list[Json] = [
        heading(f"Case {case_number}: regional owners"),
        *problems_block(problems),
        choice_set(
            "preference",
            "What does the customer prefer?",
            PREFERENCES,
            str(raw.get("preference") or ""),
            expanded=True,
        ),
        text(
            "One owner per region, from who owned the case. Change anyone by typing their "
            "e-mail address; leave a region empty to have no owner there.",
            subtle=True,
        ),
    ]
    for region in regions:
        member = by_region.get(region)
        default = member.aad_object_id if member else ""
        label = f"{region} owner" + (f" ({member.name})" if member else "")
        value = raw.get(owner_field(region), default)
        body.append(text_input(owner_field(region), label, str(value or ""), max_length=200))
    data = {"command": CHAT_OWNERS, "case": case_number}
    return card(body, [submit("Make the group chat", data, style="positive")])
