"""The access policy on its own: who reads, lists, requests and acts, and where a case may be
shown, with membership answered by plain functions (as the Bot Connector and Graph would)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from handoff import access
from handoff.access import AccessPolicy, Audience, MemberOf, is_person_of
from handoff.models import Person
from handoff.ports import ConversationKind
from handoff.request import new_handoff

from harness import records

TEAM = "19:team@thread.tacv2"
OTHER_TEAM = "19:other@thread.tacv2"
REQUESTER = Person(id="29:requester", name="Rhea Requester", aad_object_id="aad-requester")
OWNER = Person(id="29:owner", name="Otto Owner", aad_object_id="aad-owner")
NAMED = Person(id="aad-named", name="Nia Named")
LEAD = Person(id="29:lead", name="Tara Lead", aad_object_id="aad-lead")
MEMBER = Person(id="29:member", name="Mo Member", aad_object_id="aad-member")
STRANGER = Person(id="29:stranger", name="Olga Outsider", aad_object_id="aad-stranger")
NAMED_IN_TEAMS = Person(id="29:named", name="Nia Named", aad_object_id="AAD-NAMED")
AT = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
HANDOFF = new_handoff(
    records.answers("2311230040001234", "EMEA", "US"), records.PLACEHOLDER_OUTPUTS, REQUESTER, AT
).model_copy(update={"owner": OWNER, "target_engineer": NAMED})
CASE = HANDOFF.case.number
CHANNEL = Audience(ConversationKind.CHANNEL, team_id=TEAM)


def membership(person: Person, *people: Person, unknown: Sequence[Person] = ()) -> MemberOf:
    """Whether `person` is in a team, as the Bot Connector answers it: yes in TEAM for
    `people`, "cannot tell" for those `unknown`, no for everyone else."""

    async def member_of(team: str) -> bool | None:
        if person in unknown:
            return None
        return team == TEAM and person in people

    return member_of


def policy(
    team: str = TEAM,
    *,
    leads_configured: bool = True,
    allowed_teams: Sequence[str] = (),
    groups: Sequence[Person] | None = None,
) -> AccessPolicy:
    """The policy with TEAM as the Case Transfer team (or `team`); with `groups`, those people
    are in the allowed Entra groups."""

    async def case_transfer_team() -> str:
        return team

    async def in_groups(person: Person) -> bool | None:
        return groups is not None and person in groups

    return AccessPolicy(
        lambda person: person.id == LEAD.id,
        case_transfer_team,
        leads_configured=leads_configured,
        allowed_teams=allowed_teams,
        in_allowed_groups=in_groups if groups is not None else None,
    )


@pytest.mark.parametrize("reader", [REQUESTER, OWNER, NAMED_IN_TEAMS, LEAD, MEMBER])
async def test_the_people_of_a_handoff_the_leads_and_the_members_read_it(reader: Person) -> None:
    assert await policy().may_read(reader, HANDOFF, membership(reader, MEMBER)) is None


async def test_a_stranger_reads_nothing_and_cannot_probe_case_numbers() -> None:
    refused = await policy().may_read(STRANGER, HANDOFF, membership(STRANGER, MEMBER))
    unknown_case = await policy().may_read(
        STRANGER, None, membership(STRANGER, MEMBER), case="2311230049999999"
    )
    assert refused == unknown_case == access.Refusal("not in the team", access.NOT_YOURS_TO_SEE)


async def test_a_membership_that_cannot_be_told_is_never_a_yes() -> None:
    refused = await policy().may_read(MEMBER, HANDOFF, membership(MEMBER, MEMBER, unknown=[MEMBER]))
    assert refused == access.Refusal("membership unknown", access.MEMBERSHIP_UNKNOWN)


async def test_before_the_channel_is_set_up_only_a_handoffs_people_and_leads_read_it() -> None:
    unbound = policy(team="")
    assert await unbound.may_read(REQUESTER, HANDOFF, membership(REQUESTER)) is None
    assert await unbound.may_read(LEAD, HANDOFF, membership(LEAD)) is None
    refused = await unbound.may_read(MEMBER, HANDOFF, membership(MEMBER, MEMBER))
    assert refused is not None and refused.said == access.NO_TEAM_TO_SHOW


async def test_a_case_is_shown_in_the_teams_channels_and_its_own_chat_only() -> None:
    rules = policy()
    lead = membership(LEAD)
    assert await rules.may_read(LEAD, HANDOFF, lead, CHANNEL) is None
    elsewhere = Audience(ConversationKind.CHANNEL, team_id=OTHER_TEAM)
    its_chat = Audience(ConversationKind.GROUP_CHAT, chat_case=CASE)
    other_chat = Audience(ConversationKind.GROUP_CHAT, chat_case="2311230040009999")
    plain_chat = Audience(ConversationKind.GROUP_CHAT)
    assert await rules.may_read(LEAD, HANDOFF, lead, its_chat) is None
    for audience in (elsewhere, other_chat, plain_chat):
        refused = await rules.may_read(LEAD, HANDOFF, lead, audience)
        assert refused == access.Refusal("not shown here", access.NOT_SHOWN_HERE), audience


async def test_the_open_handoffs_are_listed_for_leads_and_members_only() -> None:
    rules = policy()
    assert await rules.may_see_open_handoffs(MEMBER, membership(MEMBER, MEMBER)) is None
    assert await rules.may_see_open_handoffs(LEAD, membership(LEAD), CHANNEL) is None
    refused = await rules.may_see_open_handoffs(REQUESTER, membership(REQUESTER, MEMBER))
    assert refused is not None and refused.said == access.NOT_YOURS_TO_LIST
    in_a_chat = Audience(ConversationKind.GROUP_CHAT, chat_case=CASE)
    refused = await rules.may_see_open_handoffs(LEAD, membership(LEAD), in_a_chat)
    assert refused is not None and refused.said == access.NOT_SHOWN_HERE


async def test_ones_own_handoffs_are_not_shown_to_a_chat() -> None:
    assert await policy().may_show_own(STRANGER) is None
    assert await policy().may_show_own(STRANGER, Audience(ConversationKind.GROUP_CHAT)) == (
        access.Refusal("not shown here", access.NOT_SHOWN_HERE)
    )


async def test_members_and_leads_request_and_strangers_do_not() -> None:
    rules = policy()
    assert await rules.may_request(MEMBER, membership(MEMBER, MEMBER)) is None
    assert await rules.may_request(LEAD, membership(LEAD)) is None
    refused = await rules.may_request(STRANGER, membership(STRANGER, MEMBER))
    assert refused == access.Refusal("not in the team", access.NOT_IN_TEAM_TO_REQUEST)
    assert await policy(team="").may_request(STRANGER, membership(STRANGER)) is None, (
        "before the channel is set up nobody can be told from a stranger"
    )


@pytest.mark.parametrize(
    ("verb", "actor", "allowed"),
    [
        ("accept", MEMBER, True),
        ("accept", STRANGER, False),
        ("escalate", OWNER, True),
        ("escalate", STRANGER, False),
        ("cancel", REQUESTER, True),
        ("cancel", LEAD, False),
        ("provide_info", MEMBER, False),
        ("back_to_queue", LEAD, True),
        ("back_to_queue", MEMBER, False),
        ("long_running", OWNER, True),
    ],
)
async def test_the_card_rules(verb: str, actor: Person, allowed: bool) -> None:
    refused = await policy().may_act(verb, actor, HANDOFF, membership(actor, MEMBER))
    assert (refused is None) == allowed


async def test_with_no_leads_the_first_channel_is_bound_by_anyone_then_by_its_team() -> None:
    no_leads = policy(team="", leads_configured=False)
    assert await no_leads.may_bind_channel(STRANGER, membership(STRANGER)) is None
    bound = policy(leads_configured=False)
    assert await bound.may_bind_channel(MEMBER, membership(MEMBER, MEMBER)) is None
    refused = await bound.may_bind_channel(STRANGER, membership(STRANGER, MEMBER))
    assert refused is not None and refused.said == access.SETUP_BOUND_TEAM_ONLY
    refused = await policy().may_bind_channel(MEMBER, membership(MEMBER, MEMBER))
    assert refused is not None and refused.said == access.SETUP_NOT_ALLOWED


def test_a_person_is_known_by_their_teams_id_or_their_directory_id() -> None:
    assert is_person_of(HANDOFF, NAMED_IN_TEAMS), "named by directory id, any letter case"
    assert not is_person_of(HANDOFF, STRANGER)
    assert not is_person_of(HANDOFF, Person(id="29:x", name="No Directory Id"))


async def test_members_of_allowed_teams_and_groups_count_and_a_no_from_both_is_a_stranger() -> None:
    async def only_other_team(team: str) -> bool | None:
        return team == OTHER_TEAM

    in_other = policy(allowed_teams=[OTHER_TEAM])
    assert await in_other.may_read(STRANGER, HANDOFF, only_other_team) is None
    grouped = policy(groups=[STRANGER])
    assert await grouped.may_read(STRANGER, HANDOFF, membership(STRANGER)) is None
    # Groups but no team known yet: a "no" from the groups is a stranger's answer, not "nobody
    # can be told yet", so requesting is refused.
    groups_only = policy(team="", groups=[MEMBER])
    assert await groups_only.may_request(MEMBER, membership(MEMBER)) is None
    refused = await groups_only.may_request(STRANGER, membership(STRANGER))
    assert refused == access.Refusal("not in the team", access.NOT_IN_TEAM_TO_REQUEST)


@pytest.mark.parametrize(
    ("named", "actor", "region", "addresses", "meant_for"),
    [
        (NAMED, NAMED_IN_TEAMS, None, frozenset(), None),  # by directory id
        (Person(id="nia@contoso.example", name="Nia"), MEMBER, None, frozenset(), "Nia"),
        (
            Person(id="Nia@Contoso.example", name="Nia"),
            NAMED_IN_TEAMS,
            None,
            frozenset({"nia@contoso.example"}),
            None,
        ),  # by e-mail, in any letter case
        (NAMED, LEAD, "APAC", frozenset(), None),  # a lead takes it at once
        (None, MEMBER, "US", frozenset(), None),  # the target region's engineer
        (None, MEMBER, "EMEA", frozenset(), "the US team"),
        (None, MEMBER, None, frozenset(), None),  # region unknown: anyone in the team
    ],
)
def test_who_a_handoff_is_meant_for_when_someone_else_accepts_it(
    named: Person | None,
    actor: Person,
    region: str | None,
    addresses: frozenset[str],
    meant_for: str | None,
) -> None:
    handoff = HANDOFF.model_copy(update={"target_engineer": named})
    assert handoff.target_region == "US"
    found = access.meant_for_someone_else(
        handoff,
        actor,
        is_lead=actor == LEAD,
        actor_region=region,
        actor_addresses=addresses,
    )
    assert found == meant_for


@pytest.mark.parametrize(
    ("actor", "named", "addresses", "view"),
    [
        (REQUESTER, NAMED, frozenset(), access.Viewer.REQUESTER),
        (NAMED_IN_TEAMS, NAMED, frozenset(), access.Viewer.RECEIVER),  # by directory id
        (
            MEMBER,
            Person(id="Mo@Contoso.example"),
            frozenset({"mo@contoso.example"}),
            access.Viewer.RECEIVER,
        ),
        (MEMBER, Person(id="mo@contoso.example"), frozenset(), access.Viewer.TEAM),
        (LEAD, LEAD, frozenset(), access.Viewer.LEAD),  # a lead's copy has Accept as well
        (OWNER, NAMED, frozenset(), access.Viewer.TEAM),
        (STRANGER, NAMED, frozenset(), access.Viewer.TEAM),
    ],
)
def test_each_reader_alone_gets_the_copy_of_their_role(
    actor: Person, named: Person, addresses: frozenset[str], view: str
) -> None:
    """Told from who the actor is, never from a membership look-up (a refresh asks no one);
    the requester's copy wins over a lead's, a lead's over the named engineer's."""
    handoff = HANDOFF.model_copy(update={"target_engineer": named})
    assert policy().own_view(actor, handoff, addresses) == view
    # A lead who requested the handoff gets the requester's copy (they cannot take it).
    leads_own = HANDOFF.model_copy(update={"requester": LEAD})
    assert policy().own_view(LEAD, leads_own) is access.Viewer.REQUESTER
