"""Who may see a handoff and who may act on it: one policy for every way in (a card button, a
command, a form, a view), so that no way in can forget a rule.

- **Reading** a handoff (its card, its history, its notes): the people of that handoff (its
  requester, its owner, the engineer it names), the leads, and the members of the Case Transfer
  team, of the teams it is opened to (`case_transfer.allowed_teams`) and of the allowed Entra
  groups (`case_transfer.allowed_groups`). The lists of the team's open handoffs (`list`,
  `agenda`) are for the leads and members only. What is shown in a channel or a group chat is
  seen by everyone there, so such a conversation must be one the case may be shown in too: a
  channel of the Case Transfer team or of an allowed team, or the case's own group chat.
- **Acting** on a handoff (the card buttons, and the commands that do the same): the leads,
  the handoff's requester and owner, and the members; Cancel and answering a question are
  the requester's alone, Back to queue the requester's or a lead's.
- **Requesting** a handoff (or updating the open one) and **binding** the Case Transfer
  channel: the leads and the members (before the channel is set up, anyone requests; with no
  leads configured, anyone binds the first channel).

Membership is asked lazily, only when the person's role does not decide already, and "cannot
tell now" is never taken for a yes: the person is told to try again. Every refusal is logged
the same way, so an attack or a confused user shows in one search.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum

from i18n import N_, _

from .models import Handoff, Person
from .ports import ConversationKind
from .state_machine import Verb

log = logging.getLogger(__name__)

MemberOf = Callable[[str], Awaitable[bool | None]]
"""Whether the person asking is in the team with this id; None when that cannot be told now."""

InAllowedGroups = Callable[[Person], Awaitable[bool | None]]
"""Whether a person is in one of the allowed Entra groups; None when that cannot be told now."""

CaseTransferTeam = Callable[[], Awaitable[str]]
"""The Case Transfer team's id: the configured one, else the team of the bound channel; empty
while none is known."""

REQUESTER_ONLY = frozenset({Verb.CANCEL, Verb.PROVIDE_INFO})
REQUESTER_OR_LEAD = frozenset({Verb.BACK_TO_QUEUE})
# What anyone who may act on a handoff may press (the members, the leads, its people).
ANYONE_ACTING = frozenset({Verb.ACCEPT, Verb.MORE_INFO, Verb.ESCALATE, Verb.LONG_RUNNING})


class Viewer(StrEnum):
    """Whose copy of a handoff's card it is, and so which buttons it offers: a button shown
    to someone the policy refuses would always refuse. The Case Transfer channel (and any
    channel or group chat) is seen by the whole team; a personal chat by one person, and so
    is a card Teams asks for one reader alone (AccessPolicy.own_view)."""

    TEAM = "team"
    REQUESTER = "requester"
    LEAD = "lead"
    RECEIVER = "receiver"


VIEWER_VERBS: dict[Viewer, frozenset[Verb]] = {
    Viewer.TEAM: ANYONE_ACTING,
    # The requester cannot take their own handoff, nor ask themselves for more information.
    Viewer.REQUESTER: (ANYONE_ACTING - {Verb.ACCEPT, Verb.MORE_INFO})
    | REQUESTER_OR_LEAD
    | REQUESTER_ONLY,
    Viewer.LEAD: ANYONE_ACTING | REQUESTER_OR_LEAD,
    # The engineer the handoff names may do what anyone in the team may; their copy puts
    # Accept first.
    Viewer.RECEIVER: ANYONE_ACTING,
}

_MAX_LOGGED_ID = 64  # ids may come from untrusted card data: logged, but cut short

# What a refusal says: marked here, translated when the Refusal is made.
NOT_YOURS_TO_SEE = N_(
    "That case is not yours to see: handoffs are shown to the Case Transfer team (and the teams "
    "and groups it is opened to), the leads, and the engineers of each handoff."
)
NOT_YOURS_TO_LIST = N_(
    "The open handoffs are shown to the Case Transfer team (and the teams and groups it is "
    "opened to) and the leads; **mine** lists the handoffs you requested or took."
)
NOT_SHOWN_HERE = N_(
    "I don't show cases in this conversation, since everyone in it would see them: ask me in "
    "our personal chat or in a channel of the Case Transfer team."
)
NO_TEAM_TO_SHOW = N_(
    "I show cases to the Case Transfer team once its channel is set up: ask a team lead to "
    "@mention me with **setup** there."
)
NOT_IN_TEAM = N_(
    "Only members of the Case Transfer team (and of the teams and groups it is opened to) can "
    "act on handoff cards. Ask a team lead to add you if you should."
)
NO_TRANSFER_TEAM = N_(
    "Handoffs can be taken once the Case Transfer channel is set up: ask a team lead to "
    "@mention me with **setup** there."
)
NOT_IN_TEAM_TO_REQUEST = N_(
    "Only members of the Case Transfer team (and of the teams and groups it is opened to) can "
    "request handoffs. Ask a team lead to add you if you should."
)
MEMBERSHIP_UNKNOWN = N_(
    "I could not check that you are in the Case Transfer team just now; try again in a moment."
)
ONLY_REQUESTER_OR_LEAD = N_(
    "Only the requester or a team lead can send this case back to the queue."
)
SETUP_NOT_ALLOWED = N_(
    "Only the team leads in the bot's configuration can choose the Case Transfer channel."
)
SETUP_BOUND_TEAM_ONLY = N_(
    "The Case Transfer channel is bound already: only members of its team (or a team lead in "
    "the bot's configuration) can move it."
)


def only_the_requester(name: str) -> str:
    """Who alone may do this: the requester, by their `name` if known."""
    if not name:
        return _("Only the requester of this handoff can do that.")
    return _("Only {name}, who requested this handoff, can do that.").format(name=name)


@dataclass(frozen=True)
class Refusal:
    """Why something is refused: `reason` for the log, `said` for the person."""

    reason: str
    said: str


@dataclass(frozen=True)
class Audience:
    """Who sees what the bot answers: the person alone in a personal chat; everyone in a
    channel (of `team_id`) or a group chat (the long-running chat of `chat_case`, if any)."""

    kind: ConversationKind
    team_id: str | None = None
    chat_case: str | None = None


PERSONAL = Audience(ConversationKind.PERSONAL)


class _Standing(Enum):
    MEMBER = "member"
    STRANGER = "not in the team"
    UNKNOWN = "membership unknown"
    NO_TEAM = "no Case Transfer team known"


# What each way in tells someone whose role does not decide it (not a lead, not one of the
# handoff's people), by their standing in the team; None lets them in.
_TO_READ: dict[_Standing, str | None] = {
    _Standing.MEMBER: None,
    _Standing.UNKNOWN: MEMBERSHIP_UNKNOWN,
    _Standing.NO_TEAM: NO_TEAM_TO_SHOW,
    _Standing.STRANGER: NOT_YOURS_TO_SEE,
}
_TO_LIST: dict[_Standing, str | None] = {**_TO_READ, _Standing.STRANGER: NOT_YOURS_TO_LIST}
_TO_REQUEST: dict[_Standing, str | None] = {
    **_TO_READ,
    _Standing.NO_TEAM: None,
    _Standing.STRANGER: NOT_IN_TEAM_TO_REQUEST,
}
_TO_ACT: dict[_Standing, str | None] = {
    **_TO_READ,
    _Standing.NO_TEAM: NO_TRANSFER_TEAM,
    _Standing.STRANGER: NOT_IN_TEAM,
}


def log_refusal(message: str, reason: str, verb: str, actor: Person, **subject: str | None) -> None:
    """`message` says what was refused, `reason` why; `subject` names what it was done to
    (handoff_id=..., escalation_id=..., case=...)."""
    log.warning(
        message,
        extra={
            "reason": reason,
            "verb": verb,
            "user_id": actor.id,
            **{name: (value or "")[:_MAX_LOGGED_ID] for name, value in subject.items()},
        },
    )


def _ids(person: Person) -> set[str]:
    """What a person is known by: their Teams user id as Teams gives it, and their AAD object
    id, a GUID, in lower case (configuration and Graph write it either way)."""
    return {person.id, person.id.lower(), (person.aad_object_id or "").lower()} - {""}


def _same(person: Person | None, actor: Person) -> bool:
    """Whether `person` is the actor: by Teams id, or by AAD object id (a person named by their
    directory id, as leads and a long-running chat's owners are)."""
    if person is None:
        return False
    if person.id == actor.id:
        return True
    aad_id = (actor.aad_object_id or "").lower()
    return bool(aad_id) and aad_id in _ids(person)


def listed(ids: Sequence[str]) -> Callable[[Person], bool]:
    """Whether a person is one of `ids` (Teams user ids, or AAD object ids in any letter
    case): the leads of the process file, the bot's admins."""
    known = {i for i in ids if i} | {i.lower() for i in ids if i}

    def is_listed(person: Person) -> bool:
        return person.id in known or (person.aad_object_id or "").lower() in known

    return is_listed


def is_person_of(handoff: Handoff, actor: Person) -> bool:
    """The requester, the owner or the named engineer of the handoff."""
    return any(
        _same(person, actor)
        for person in (handoff.requester, handoff.owner, handoff.target_engineer)
    )


def is_named(handoff: Handoff, actor: Person, actor_addresses: frozenset[str]) -> bool:
    """Whether the actor is the engineer the handoff names: by Teams id, directory id or one
    of their e-mail addresses (lower case, as a membership look-up gave them)."""
    named = handoff.target_engineer
    return named is not None and (
        _same(named, actor) or named.id.strip().lower() in actor_addresses
    )


def meant_for_someone_else(
    handoff: Handoff,
    actor: Person,
    *,
    is_lead: bool,
    actor_region: str | None,
    actor_addresses: frozenset[str] = frozenset(),
) -> str | None:
    """Who a handoff is meant for, when the person accepting it is not them: its named
    engineer (known by Teams id, directory id or e-mail address), or else an engineer of its
    target region (a person's region is the one they saved with `settings`). None when the
    actor is the one, a lead, or nobody in particular is meant. Taking it anyway is allowed,
    once the person confirms they take it instead."""
    if is_lead:
        return None
    named = handoff.target_engineer
    if named is not None:
        if is_named(handoff, actor, actor_addresses):
            return None
        return named.name or named.id
    if actor_region and actor_region != handoff.target_region:
        # Translators: who a handoff is meant for, as in "took it instead of {meant_for}".
        return _("the {region} team").format(region=handoff.target_region)
    return None


def may_update(handoff: Handoff, actor: Person, sees_every_case: bool) -> bool:
    """Whether a handoff dialog may show the actor this open handoff of the case and offer to
    update it: whoever may read it (`sees_every_case` from AccessPolicy.sees_every_case)."""
    return sees_every_case or is_person_of(handoff, actor)


def not_yours_to_update(case: str) -> str:
    return _(
        "Case {number} has an open handoff that is not yours to see, so I cannot start another "
        "or update it: ask its requester or a team lead."
    ).format(number=case)


class AccessPolicy:
    def __init__(
        self,
        is_lead: Callable[[Person], bool],
        case_transfer_team: CaseTransferTeam,
        *,
        leads_configured: bool = True,
        allowed_teams: Sequence[str] = (),
        in_allowed_groups: InAllowedGroups | None = None,
    ) -> None:
        self._is_lead = is_lead
        self._case_transfer_team = case_transfer_team
        self._leads_configured = leads_configured
        self._allowed_teams = tuple(allowed_teams)
        self._in_allowed_groups = in_allowed_groups

    def is_lead(self, person: Person) -> bool:
        return self._is_lead(person)

    def viewer(self, actor: Person, handoff: Handoff, *, personal: bool) -> Viewer:
        """Whose copy of the card `actor` is shown: only in a personal chat is it their own
        (elsewhere everyone there sees it)."""
        if not personal:
            return Viewer.TEAM
        if _same(handoff.requester, actor):
            return Viewer.REQUESTER
        return Viewer.LEAD if self._is_lead(actor) else Viewer.TEAM

    def own_view(
        self, actor: Person, handoff: Handoff, addresses: frozenset[str] = frozenset()
    ) -> Viewer:
        """The copy of the card for `actor` alone, wherever it is shown (Teams draws a card it
        asks for one person, a refresh's or a click's answer, for that person only): the
        requester's, a lead's, the named engineer's, else the team's. Told from what the bot
        knows already, without asking Teams who is in the team: the copies differ in the role
        buttons, which need no membership, and every click is asked of may_act again."""
        if _same(handoff.requester, actor):
            return Viewer.REQUESTER
        if self._is_lead(actor):
            return Viewer.LEAD
        return Viewer.RECEIVER if is_named(handoff, actor, addresses) else Viewer.TEAM

    async def _teams(self) -> list[str]:
        """The Case Transfer team and the allowed teams; empty while none is known."""
        team = await self._case_transfer_team()
        return list(dict.fromkeys(t for t in (team, *self._allowed_teams) if t))

    async def _standing(self, actor: Person, member_of: MemberOf) -> _Standing:
        teams = await self._teams()
        groups = self._in_allowed_groups
        if not teams and groups is None:
            return _Standing.NO_TEAM
        unknown = False
        for team in teams:
            member = await member_of(team)
            if member:
                return _Standing.MEMBER
            unknown = unknown or member is None
        if groups is not None:
            member = await groups(actor)
            if member:
                return _Standing.MEMBER
            unknown = unknown or member is None
        return _Standing.UNKNOWN if unknown else _Standing.STRANGER

    async def _shown_here(self, audience: Audience, case: str | None) -> bool:
        if audience.kind is ConversationKind.PERSONAL:
            return True
        if audience.kind is ConversationKind.GROUP_CHAT:
            return case is not None and audience.chat_case == case
        return bool(audience.team_id) and audience.team_id in await self._teams()

    async def may_read(
        self,
        actor: Person,
        handoff: Handoff | None,
        member_of: MemberOf,
        audience: Audience = PERSONAL,
        *,
        case: str | None = None,
    ) -> Refusal | None:
        """Whether the actor may see this handoff (or learn that case `case` has none: a
        stranger is told the same either way, so case numbers cannot be probed) here."""
        number = handoff.case.number if handoff is not None else case
        if not await self._shown_here(audience, number):
            return _refused("read refused", "not shown here", "read", actor, NOT_SHOWN_HERE, number)
        if handoff is not None and is_person_of(handoff, actor):
            return None
        return await self._member_or_lead(
            "read refused", "read", actor, member_of, _TO_READ, number
        )

    async def may_see_open_handoffs(
        self, actor: Person, member_of: MemberOf, audience: Audience = PERSONAL
    ) -> Refusal | None:
        """`list`, `agenda`: the team's open handoffs, for the leads and members, shown in a
        personal chat or a channel of the team."""
        if not await self._lists_shown_to(audience):
            return _refused("read refused", "not shown here", "list", actor, NOT_SHOWN_HERE)
        return await self._member_or_lead("read refused", "list", actor, member_of, _TO_LIST)

    async def may_show_own(self, actor: Person, audience: Audience = PERSONAL) -> Refusal | None:
        """`mine`: a person's own handoffs, shown to them or in a channel of the team."""
        if not await self._lists_shown_to(audience):
            return _refused("read refused", "not shown here", "mine", actor, NOT_SHOWN_HERE)
        return None

    async def _lists_shown_to(self, audience: Audience) -> bool:
        """Lists of several cases: never to a group chat, which is one case's at most."""
        return audience.kind is not ConversationKind.GROUP_CHAT and await self._shown_here(
            audience, None
        )

    async def _member_or_lead(
        self,
        message: str,
        verb: str,
        actor: Person,
        member_of: MemberOf,
        texts: dict[_Standing, str | None],
        case: str | None = None,
    ) -> Refusal | None:
        if self._is_lead(actor):
            return None
        standing = await self._standing(actor, member_of)
        said = texts[standing]
        return None if said is None else _refused(message, standing.value, verb, actor, said, case)

    async def sees_every_case(self, actor: Person, member_of: MemberOf) -> bool:
        """Whether the actor may read any handoff, not only their own: a lead or a member.
        Asked once when a handoff dialog starts, for the case's open handoff it may meet."""
        return self._is_lead(actor) or await self._standing(actor, member_of) is _Standing.MEMBER

    async def may_request(self, actor: Person, member_of: MemberOf) -> Refusal | None:
        """A new handoff (or an update of a case's open one): leads and members. Before any
        team is known (the channel not set up yet) nobody can be told from a stranger, and the
        card only waits for the channel, where the members see it once it is bound."""
        if self._is_lead(actor):
            return None
        standing = await self._standing(actor, member_of)
        said = _TO_REQUEST[standing]
        if said is None:
            return None
        return _refused("handoff request refused", standing.value, "handoff", actor, said)

    async def may_act(
        self, verb: str, actor: Person, handoff: Handoff, member_of: MemberOf
    ) -> Refusal | None:
        """Whether the actor may press this button on this handoff's card (or run the command
        that does the same)."""
        is_requester = _same(handoff.requester, actor)
        if verb in REQUESTER_ONLY:
            if is_requester:
                return None
            only = only_the_requester(handoff.requester.name)
            return _act_refused("not the requester", verb, actor, handoff, only)
        is_lead = self._is_lead(actor)
        if verb in REQUESTER_OR_LEAD:
            if is_requester or is_lead:
                return None
            return _act_refused(
                "neither requester nor lead", verb, actor, handoff, _(ONLY_REQUESTER_OR_LEAD)
            )
        if is_requester or _same(handoff.owner, actor) or is_lead:
            return None
        standing = await self._standing(actor, member_of)
        said = _TO_ACT[standing]
        return None if said is None else _act_refused(standing.value, verb, actor, handoff, _(said))

    async def may_bind_channel(self, actor: Person, member_of: MemberOf) -> Refusal | None:
        """Binding the Case Transfer channel (which also names the team whose members act on
        cards): leads; with no leads configured, anyone binds the first channel, and then
        only members of the bound team rebind it."""
        if self._is_lead(actor):
            return None
        if self._leads_configured:
            return _refused("setup refused", "not a lead", "setup", actor, SETUP_NOT_ALLOWED)
        team = await self._case_transfer_team()
        if not team:
            return None
        member = await member_of(team)
        if member:
            return None
        if member is None:
            return _refused(
                "setup refused", "membership unknown", "setup", actor, MEMBERSHIP_UNKNOWN
            )
        return _refused(
            "setup refused", "not in the bound team", "setup", actor, SETUP_BOUND_TEAM_ONLY
        )


def _refused(
    message: str, reason: str, verb: str, actor: Person, said: str, case: str | None = None
) -> Refusal:
    """`said`: one of the texts marked above, said in the reader's language."""
    subject = {"case": case} if case else {}
    log_refusal(message, reason, verb, actor, **subject)
    return Refusal(reason, _(said))


def _act_refused(reason: str, verb: str, actor: Person, handoff: Handoff, said: str) -> Refusal:
    """`said`: in the reader's language already."""
    log_refusal("card action refused", reason, verb, actor, handoff_id=handoff.id)
    return Refusal(reason, said)
