import itertools
from datetime import UTC, datetime, timedelta

import pytest

from handoff.long_running import (
    ChatMember,
    GroupChat,
    assess,
    next_owner,
    regional_owners,
    regions_travelled,
    round_the_globe,
)
from handoff.models import (
    Case,
    Handoff,
    HandoffKind,
    HandoffState,
    Person,
    Severity,
    SupportPlan,
)

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def accepted_route(
    *regions: str, severity: Severity = Severity.A, is_24x7: bool = True
) -> list[Handoff]:
    """One accepted handoff per leg of the route, eight hours apart."""
    case = Case(
        number="2311230040001234",
        severity=severity,
        is_24x7=is_24x7,
        plan=SupportPlan.PREMIER,
        product_skill="HDInsight",
        customer_region="US",
        customer_timezone="America/Chicago",
    )
    legs = []
    for n, (origin, target) in enumerate(itertools.pairwise(regions)):
        at = T0 + timedelta(hours=8 * n)
        legs.append(
            Handoff(
                case=case,
                kind=HandoffKind.CRITICAL_24X7,
                requester=Person(id=f"29:{origin}", name=f"{origin} owner"),
                owner=Person(id=f"29:{target}", name=f"{target} owner"),
                from_region=origin,
                target_region=target,
                reason="continual support",
                state=HandoffState.ACCEPTED,
                version=2,
                created_at=at,
                updated_at=at + timedelta(minutes=30),
            )
        )
    return legs


def test_round_the_globe_back_to_emea_is_long_running() -> None:
    verdict = assess(accepted_route("EMEA", "US", "APAC", "EMEA"))
    assert verdict.long_running
    assert verdict.reason == "it has gone round the globe: EMEA → US → APAC → EMEA"


def test_there_and_back_is_not() -> None:
    assert not assess(accepted_route("EMEA", "US", "EMEA")).long_running


def test_sev_b_24x7_counts_too() -> None:
    assert assess(
        accepted_route("US", "APAC", "IST", "EMEA", "US", severity=Severity.B)
    ).long_running


@pytest.mark.parametrize(("severity", "is_24x7"), [(Severity.C, True), (Severity.A, False)])
def test_sev_c_or_business_hours_cases_never_are(severity: Severity, is_24x7: bool) -> None:
    route = accepted_route("EMEA", "US", "APAC", "EMEA", severity=severity, is_24x7=is_24x7)
    assert not assess(route).long_running


def test_a_flag_makes_any_case_long_running() -> None:
    verdict = assess(
        accepted_route("EMEA", "US", severity=Severity.C),
        flagged_reason="customer works in two time zones",
    )
    assert verdict.long_running
    assert verdict.reason == "flagged: customer works in two time zones"


def test_open_handoffs_do_not_count_as_travel() -> None:
    legs = accepted_route("EMEA", "US", "APAC", "EMEA")
    legs[-1] = legs[-1].model_copy(update={"state": HandoffState.REQUESTED, "owner": None})
    assert regions_travelled(legs) == ["EMEA", "US", "APAC"]
    assert not assess(legs).long_running


def test_a_loop_later_in_the_route_is_found() -> None:
    assert round_the_globe(["IST", "EMEA", "US", "APAC", "EMEA"]) == "EMEA → US → APAC → EMEA"
    assert round_the_globe(["EMEA", "US", "US", "EMEA"]) is None


def test_regional_owners_are_proposed_from_who_owned_the_case() -> None:
    owners = regional_owners(accepted_route("EMEA", "US", "APAC", "EMEA"))
    assert {r: p.name for r, p in owners.items()} == {
        "US": "US owner",
        "APAC": "APAC owner",
        "EMEA": "EMEA owner",
    }


def test_the_next_owner_follows_the_globe_and_skips_empty_regions() -> None:
    members = (
        ChatMember(aad_object_id="a", name="Ana", region="EMEA"),
        ChatMember(aad_object_id="b", name="Bo", region="US"),
        ChatMember(aad_object_id="c", name="Cy", region="APAC"),
    )
    chat = GroupChat(case_number="2311230040001234", topic="t", members=members)
    order = ("EMEA", "US", "APAC", "IST")
    assert next_owner(chat, "EMEA", order) == members[1]
    assert next_owner(chat, "APAC", order) == members[0], "IST has nobody: on to EMEA"
    assert next_owner(chat, "MARS", order) is None
