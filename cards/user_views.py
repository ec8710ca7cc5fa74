"""The Case Transfer card's user-specific views (Teams' Universal Actions): the card posted in
the channel is the team's, and its `refresh` names the people whose Teams client asks the bot
for their own copy when they see it; each copy shows its reader's own buttons, the rest of what
they may press in the card's overflow menu.

What Teams does with it (learn.microsoft.com, Microsoft Teams platform, "User Specific Views"
and "Work with Universal Actions for Adaptive Cards"): `refresh.userIds` lists user MRIs, the
`29:…` id an activity's `from.id` carries, at most 60; the others in the conversation see the
card as posted and can pick Refresh in the message's menu. A refresh comes as an
`adaptiveCard/action` invoke (`trigger` "automatic", or "manual" from that menu) with the
refresh action's verb and data; Teams asks again only once the copy it got is a minute old,
and an update of the message (the outbox's) refreshes the copies of the people listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from handoff.access import Viewer
from handoff.models import Handoff
from handoff.state_machine import Verb

from .elements import Json

REFRESH_VERB = "refreshCard"
# Teams' limit on refresh.userIds.
MAX_REFRESH_USERS = 60

# Each copy's own buttons; the others it offers go to the overflow menu ("mode": "secondary",
# Adaptive Cards 1.5).
PRIMARY_VERBS: dict[Viewer, frozenset[Verb]] = {
    Viewer.TEAM: frozenset({Verb.ACCEPT, Verb.MORE_INFO}),
    Viewer.REQUESTER: frozenset({Verb.CANCEL, Verb.BACK_TO_QUEUE, Verb.PROVIDE_INFO}),
    Viewer.LEAD: frozenset({Verb.BACK_TO_QUEUE, Verb.ESCALATE}),
    Viewer.RECEIVER: frozenset({Verb.ACCEPT}),
}


@dataclass(frozen=True)
class RefreshUsers:
    """Whose Teams refreshes the card on its own (`ids`), and who is left out past the limit."""

    ids: tuple[str, ...]
    left_out: tuple[str, ...] = ()


def refresh_users(candidates: Iterable[str]) -> RefreshUsers:
    """The first MAX_REFRESH_USERS distinct ids in the order given, which the caller makes the
    order of importance (the handoff's own people, then the leads as configured), so the same
    people are picked every time and the last ones are left out."""
    distinct = tuple(dict.fromkeys(i for i in candidates if i))
    return RefreshUsers(distinct[:MAX_REFRESH_USERS], distinct[MAX_REFRESH_USERS:])


def refresh_block(handoff: Handoff, user_ids: Sequence[str]) -> Json:
    """The card's `refresh`: its data names the handoff and version as the buttons' data does
    (what the card shows, to be checked, never trusted)."""
    return {
        "action": {
            "type": "Action.Execute",
            "verb": REFRESH_VERB,
            "data": {"handoff_id": handoff.id, "version": handoff.version},
        },
        "userIds": list(user_ids)[:MAX_REFRESH_USERS],
    }


def placed(action: Json, verb: str, viewer: Viewer) -> Json:
    """The button as a button for the viewer's own verbs, else in the overflow menu."""
    if verb in PRIMARY_VERBS[viewer]:
        return action
    return {**action, "mode": "secondary"}
