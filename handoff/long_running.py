"""R-LONG: when a 24x7 case has become long-running and wants one owner per region."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from i18n import _

from .models import Handoff, HandoffState, Person, Severity
from .schedule import Schedule
from .state_machine import state_in_words
from .user_settings import SHIFT_END_NOTICE

# Fewest regions besides the first that a trip must pass through to count as "round the
# globe": EMEA → US → APAC → EMEA does; EMEA → US → EMEA is only a back-and-forth. IST, which
# sits between APAC and EMEA, may be skipped, so the whole travel order is not required.
MIN_OTHER_REGIONS = 2


@dataclass(frozen=True)
class Verdict:
    long_running: bool
    reason: str = ""


def regions_travelled(accepted: Sequence[Handoff]) -> list[str]:
    """The regions an accepted case went through, in order: where it started, then where
    each accepted handoff took it."""
    ordered = sorted(
        (h for h in accepted if h.state is HandoffState.ACCEPTED), key=lambda h: h.updated_at
    )
    if not ordered:
        return []
    route = [ordered[0].from_region]
    for handoff in ordered:
        if handoff.target_region != route[-1]:
            route.append(handoff.target_region)
    return route


def round_the_globe(route: Sequence[str]) -> str | None:
    """The loop that brought the case back where it started, if any (e.g. EMEA → US → APAC →
    EMEA), written for people."""
    for start, region in enumerate(route):
        seen: list[str] = []
        for later in route[start + 1 :]:
            if later == region:
                if len(set(seen)) >= MIN_OTHER_REGIONS:
                    return " → ".join([region, *seen, region])
                break
            seen.append(later)
    return None


# Closed for R-LONG: a cancelled handoff, or one sent back to the queue (a new one follows).
_CLOSED = frozenset({HandoffState.CANCELLED, HandoffState.BACK_TO_QUEUE})


def can_be_long_running(handoff: Handoff) -> bool:
    """R-LONG is about Sev A or B cases the customer works 24x7."""
    case = handoff.case
    return case.severity is not Severity.C and case.is_24x7


def why_not_flaggable(handoff: Handoff) -> str | None:
    """Why this handoff cannot be flagged long-running by hand, or None when it can. The one
    statement of the rule: the service refuses by it, the cards offer the button by it."""
    number = handoff.case.number
    if handoff.state in _CLOSED:
        return _(
            "This handoff of case {number} is {state}: it can no longer be flagged "
            "long-running. Flag the case's current handoff."
        ).format(number=number, state=state_in_words(handoff.state))
    if handoff.long_running is not None:
        # Translators: {reason} is why it is long-running, e.g. "flagged: the customer works in
        # two time zones".
        return _("Case {number} is already marked long-running: {reason}").format(
            number=number, reason=handoff.long_running
        )
    if not can_be_long_running(handoff):
        return _(
            "Case {number} cannot be long-running: only Sev A or B cases the customer works "
            "24x7 can be."
        ).format(number=number)
    return None


def assess(handoffs: Sequence[Handoff], *, flagged_reason: str | None = None) -> Verdict:
    """Whether the case of these handoffs is long-running (R-LONG).

    Only Sev A or B cases worked 24x7 travel round the globe; a Sev C case never counts. A
    person's flag (the customer works in two time zones and transfers keep happening) is
    taken as given: they know the case (who may flag which case: why_not_flaggable).
    """
    if flagged_reason:
        # Translators: why a case is long-running; {reason} is what the person who flagged it
        # wrote.
        return Verdict(True, _("flagged: {reason}").format(reason=flagged_reason))
    if not handoffs:
        return Verdict(False)
    if not can_be_long_running(max(handoffs, key=lambda h: h.updated_at)):
        return Verdict(False)
    loop = round_the_globe(regions_travelled(handoffs))
    if loop is None:
        return Verdict(False)
    # Translators: why a case is long-running; {regions} is its trip, e.g. "EMEA → US → APAC →
    # EMEA".
    return Verdict(True, _("it has gone round the globe: {regions}").format(regions=loop))


def regional_owners(handoffs: Sequence[Handoff]) -> dict[str, Person]:
    """Who last held the case in each region, from its accepted handoffs (the requester in
    the region it left, the owner in the region it reached): the regional owners proposed
    for a long-running case, by region, the most recent last. `longrunning <case>` lists
    them and the owners card proposes them, so both say the same."""
    latest: dict[str, Person] = {}
    for handoff in sorted(handoffs, key=lambda h: h.updated_at):
        if handoff.state is not HandoffState.ACCEPTED or handoff.owner is None:
            continue
        for person, region in (
            (handoff.requester, handoff.from_region),
            (handoff.owner, handoff.target_region),
        ):
            latest.pop(region, None)
            latest[region] = person
    return latest


class ChatMember(BaseModel):
    model_config = ConfigDict(frozen=True)

    aad_object_id: str
    name: str
    region: str


class GroupChatState(StrEnum):
    REQUESTED = "requested"
    CREATED = "created"
    INSTALLED = "installed"
    POSTED = "posted"
    FAILED = "failed"


class GroupChat(BaseModel):
    """The group chat of a long-running case with its regional owners (R-LONG)."""

    model_config = ConfigDict(frozen=True)

    case_number: str
    topic: str
    members: tuple[ChatMember, ...]
    chat_id: str | None = None
    state: GroupChatState = GroupChatState.REQUESTED
    last_error: str | None = None


def chat_members(owners: Mapping[str, Person]) -> tuple[ChatMember, ...]:
    """The regional owners the bot can add to a chat: those with an AAD object id, each
    person once (in the first region they hold)."""
    unique: dict[str, ChatMember] = {}
    for region, person in owners.items():
        if person.aad_object_id:
            member = ChatMember(
                aad_object_id=person.aad_object_id, name=person.name or person.id, region=region
            )
            unique.setdefault(person.aad_object_id.lower(), member)
    return tuple(unique.values())


def chat_topic(handoff: Handoff) -> str:
    # Translators: the name of a long-running case's group chat in Teams.
    return _("Case {number} · {product} · regional owners").format(
        number=handoff.case.number, product=handoff.case.product_skill
    )


def chat_rules() -> str:
    """The bot's first words in a long-running case's group chat."""
    # Translators: keep **shiftend** as it is: it is the command typed.
    return _(
        "This chat holds the regional owners of a long-running case. Hand off directly "
        "EMEA → US → APAC → EMEA, warm when the next owner is on shift. At the end of your "
        "shift, update the notes and type **shiftend** here with a short summary."
    )


def next_owner(chat: GroupChat, region: str, travel_order: Sequence[str]) -> ChatMember | None:
    """The chat member who takes the case after `region`, following the travel order round
    the globe and passing over regions without an owner."""
    if region not in travel_order:
        return None
    start = travel_order.index(region)
    by_region = {member.region: member for member in chat.members}
    for step in range(1, len(travel_order)):
        candidate = by_region.get(travel_order[(start + step) % len(travel_order)])
        if candidate is not None and candidate.region != region:
            return candidate
    return None


def shift_end_reminder_at(schedule: Schedule, region: str, now: datetime) -> datetime:
    """When to remind `region`'s owner of the case's chat that their shift ends: shortly
    before the end of the shift they are on, or else of their next one."""
    return schedule.ending_shift(region, now, SHIFT_END_NOTICE).end - SHIFT_END_NOTICE
