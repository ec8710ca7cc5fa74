"""R-OOF's plan: which cases get a warm handoff, which go on the Team Leader's list, and the
automatic reply the engineer sets, written in the engineer's language."""

from datetime import UTC, date, datetime

import pytest

from handoff.models import Case, Handoff, HandoffKind, Person, Severity, SupportPlan
from handoff.oof import OofKind, plan
from i18n import speaking

AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
FIRST_DAY, BACK_ON = date(2026, 11, 24), date(2026, 11, 30)
PHONES = {"EMEA": "+44 20 0000 0000", "US": "+1 425 000 0000"}


def owned(number: str, severity: Severity, is_24x7: bool) -> Handoff:
    case = Case(
        number=number,
        severity=severity,
        is_24x7=is_24x7,
        plan=SupportPlan.PREMIER,
        product_skill="HDInsight",
        customer_region="US",
        customer_timezone="America/Chicago",
    )
    return Handoff(
        case=case,
        kind=HandoffKind.WITHIN_REGION,
        requester=Person(id="29:owner", name="Owner"),
        from_region="EMEA",
        target_region="EMEA",
        reason="out of office",
        created_at=AT,
        updated_at=AT,
    )


CRITICAL = owned("2311230040001111", Severity.A, True)
ROUTINE = owned("2311230040002222", Severity.C, False)


@pytest.mark.parametrize(
    ("kind", "listed"),
    [
        (OofKind.PLANNED_SHORT, []),
        (OofKind.PLANNED_LONG, [ROUTINE.case.number]),
        (OofKind.UNEXPECTED_LONG, [CRITICAL.case.number, ROUTINE.case.number]),
    ],
)
def test_critical_cases_always_get_a_warm_handoff(kind: OofKind, listed: list[str]) -> None:
    outcome = plan(kind, [CRITICAL, ROUTINE], FIRST_DAY, BACK_ON, PHONES)
    assert outcome.hand_off == (CRITICAL,)
    assert [line.case_number for line in outcome.ta_list] == listed


def test_the_automatic_reply_gives_the_dates_and_the_support_numbers() -> None:
    outcome = plan(OofKind.PLANNED_SHORT, [ROUTINE], FIRST_DAY, BACK_ON, PHONES)
    assert outcome.auto_reply == (
        "I am out of the office from Tue, Nov 24 and back on Mon, Nov 30, 2026. Your case is "
        "in the hands of my team; for urgent help call support: EMEA +44 20 0000 0000; "
        "US +1 425 000 0000."
    )


def test_the_automatic_reply_writes_the_dates_as_the_engineers_language_does() -> None:
    with speaking("de"):
        outcome = plan(OofKind.PLANNED_SHORT, [ROUTINE], FIRST_DAY, BACK_ON, PHONES)
    assert "Di., 24. Nov." in outcome.auto_reply
    assert "Mo., 30. Nov. 2026" in outcome.auto_reply
