"""Whether people are in a team, remembered a while: a click costs one look-up per person and
team now and then. The edge says how to ask (teams/roster.py asks the Bot Connector: GET
/v3/conversations/{team id}/members/{user id}, 404 for a stranger); when it cannot answer, the
person is refused and can try again. The roster conversationUpdate events carry is not used:
Teams only sends changes, so a bot installed in an existing team never hears of the people
already in it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from handoff.access import MemberOf
from handoff.models import Person
from handoff.ports import Clock

from .remembered import MEMBER_TTL, STRANGER_TTL, RememberedAnswers, answer_key

# People whose addresses are remembered (an organization's support engineers, not more).
_MAX_ADDRESSES = 10_000


@dataclass(frozen=True)
class RosterAnswer:
    """One look-up's answer: member (None: could not tell) and, for a member, the e-mail
    address and sign-in name Teams gave."""

    member: bool | None
    addresses: frozenset[str] = frozenset()


AskRoster = Callable[[str, str], Awaitable[RosterAnswer]]
"""(team id, person id) -> the answer, asked of Teams."""


class TeamMembership:
    """Members are remembered for `member_ttl`, strangers (who may just have been added) for
    less; the addresses a "yes" came with are how a person named by e-mail (a handoff's
    receiver) is recognised when they click."""

    def __init__(
        self,
        clock: Clock,
        member_ttl: timedelta = MEMBER_TTL,
        stranger_ttl: timedelta = STRANGER_TTL,
    ) -> None:
        self._known: RememberedAnswers[tuple[str, str]] = RememberedAnswers(
            clock, member_ttl, stranger_ttl
        )
        # Under the person id's digest (they decide who is the receiver named by e-mail); a
        # tuple of one or two: a frozenset that small takes 216 bytes, the tuple 48 to 56.
        self._addresses: dict[int, tuple[str, ...]] = {}

    def addresses(self, person: Person) -> frozenset[str]:
        """The person's addresses, lower-cased, as far as a membership look-up told them."""
        return frozenset(self._addresses.get(answer_key(person.id), ()))

    def checker(self, ask: AskRoster, person: Person) -> MemberOf:
        async def member_of(team_id: str) -> bool | None:
            return await self.is_member(ask, team_id, person)

        return member_of

    async def is_member(self, ask: AskRoster, team_id: str, person: Person) -> bool | None:
        known = self._known.get((team_id, person.id))
        if known is not None:
            return known
        answer = await ask(team_id, person.id)
        if answer.member is not None:
            self._known.put((team_id, person.id), answer.member)
        if answer.member:
            addresses = tuple({a.strip().lower() for a in answer.addresses if a.strip()})
            if not addresses:
                self._addresses.pop(answer_key(person.id), None)
            else:
                if len(self._addresses) >= _MAX_ADDRESSES:
                    self._addresses.clear()  # a bound on memory: the next look-ups fill it again
                self._addresses[answer_key(person.id)] = addresses
        return answer.member
