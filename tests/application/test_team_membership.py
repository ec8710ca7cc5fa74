"""Team membership asked of Teams and remembered a while: a member for ten minutes, a
stranger (who may just have been added) for one, an unanswered look-up not at all. Teams'
roster is faked (it is Microsoft's); the clock is moved, never waited for."""

from __future__ import annotations

import tracemalloc
from datetime import timedelta

from application.team_membership import RosterAnswer, TeamMembership
from handoff.models import Person

from harness.scenario import BO, STRANGER, StillClock

TEAM = "19:team@thread.tacv2"


class Roster:
    """Teams' roster: who is in the team, and how many times it was asked."""

    def __init__(self, members: dict[str, RosterAnswer]) -> None:
        self.members = members
        self.asked = 0

    async def __call__(self, team_id: str, person_id: str) -> RosterAnswer:
        self.asked += 1
        return self.members.get(person_id, RosterAnswer(member=False))


async def test_a_member_is_remembered_ten_minutes() -> None:
    clock = StillClock()
    roster = Roster({BO.id: RosterAnswer(member=True)})
    member_of = TeamMembership(clock).checker(roster, BO)
    assert await member_of(TEAM) is True
    clock.at += timedelta(minutes=9)
    assert await member_of(TEAM) is True and roster.asked == 1
    clock.at += timedelta(minutes=2)
    roster.members.clear()  # removed from the team meanwhile
    assert await member_of(TEAM) is False and roster.asked == 2


async def test_a_stranger_is_asked_again_after_a_minute() -> None:
    clock = StillClock()
    roster = Roster({})
    member_of = TeamMembership(clock).checker(roster, STRANGER)
    assert await member_of(TEAM) is False
    clock.at += timedelta(seconds=30)
    assert await member_of(TEAM) is False and roster.asked == 1
    clock.at += timedelta(seconds=31)
    roster.members[STRANGER.id] = RosterAnswer(member=True)  # just added
    assert await member_of(TEAM) is True and roster.asked == 2


async def test_an_unanswered_look_up_is_asked_again_at_once() -> None:
    roster = Roster({BO.id: RosterAnswer(member=None)})
    member_of = TeamMembership(StillClock()).checker(roster, BO)
    assert await member_of(TEAM) is None
    assert await member_of(TEAM) is None and roster.asked == 2


async def test_a_members_addresses_are_kept_lower_case() -> None:
    roster = Roster(
        {BO.id: RosterAnswer(member=True, addresses=frozenset({"Bo@Example.com ", " ", "bo"}))}
    )
    membership = TeamMembership(StillClock())
    assert membership.addresses(BO) == frozenset()
    assert await membership.is_member(roster, TEAM, BO) is True
    assert membership.addresses(BO) == frozenset({"bo@example.com", "bo"})
    assert membership.addresses(STRANGER) == frozenset()


async def test_an_answer_costs_little_and_keeps_no_id_alive() -> None:
    # Teams' ids run to 100-200 characters, and each person asking is remembered ten
    # minutes: an answer is kept under an 8-byte digest of the ids, 16 bytes with its time.
    clock = StillClock()
    people = [Person(id=f"29:{'x' * 120}{n}", name=f"Person {n}") for n in range(2000)]
    roster = Roster({p.id: RosterAnswer(member=n % 2 == 0) for n, p in enumerate(people)})
    membership = TeamMembership(clock)
    asked = [(membership.checker(roster, p), p) for p in people]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for member_of, _ in asked:
            await member_of(TEAM)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept / len(people) < 24, f"{kept / len(people):.0f} bytes a person"
    answers = [await member_of(TEAM) for member_of, _ in asked]
    assert answers == [n % 2 == 0 for n in range(len(people))] and roster.asked == len(people)
    assert await membership.checker(roster, people[0])("19:another@thread.tacv2") is True
    assert roster.asked == len(people) + 1, "another team is another answer"


async def test_more_people_than_the_bound_within_ten_minutes_keep_memory_bounded() -> None:
    # A larger org than the bound, all clicking within ten minutes: every answer is still
    # live when the bound is reached. The answers are let go and asked again, rather than
    # kept past the bound (each new one then copied all the others: a click cost 10,000).
    clock = StillClock()
    people = [Person(id=f"29:p{n}", name=f"Person {n}") for n in range(10_050)]
    roster = Roster({p.id: RosterAnswer(member=True) for p in people})
    membership = TeamMembership(clock)
    for person in people:
        assert await membership.is_member(roster, TEAM, person) is True
    kept = membership._known._until
    assert len(kept) <= 10_000, f"{len(kept)} answers kept"
    assert await membership.is_member(roster, TEAM, people[-1]) is True
    assert roster.asked == len(people), "the latest answer is still remembered"
    assert await membership.is_member(roster, TEAM, people[0]) is True
    assert roster.asked == len(people) + 1, "an answer let go is asked again"
