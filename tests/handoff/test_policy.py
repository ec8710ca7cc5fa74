"""Qualification, justification and the R-DONT warnings (R-24x7-1, R-NON24x7-1, R-DONT)."""

import pytest

from handoff.models import Case, Severity, SupportPlan
from handoff.policy import (
    LEAVE_WARNING,
    RESOLVED_WARNING,
    SEVERITY_WARNING,
    TransferReason,
    TransferScope,
    dont_warnings,
    downgrade_hint,
    justification_required,
    qualifies_as_24x7,
)


def make_case(severity: Severity, is_24x7: bool) -> Case:
    return Case(
        number="123456789012",
        severity=severity,
        is_24x7=is_24x7,
        plan=SupportPlan.PREMIER,
        product_skill="Data Pipelines",
        customer_region="EMEA",
        customer_timezone="Europe/Berlin",
    )


@pytest.mark.parametrize(
    ("severity", "is_24x7", "qualifies"),
    [
        (Severity.A, True, True),
        (Severity.A, False, False),
        (Severity.B, True, False),
        (Severity.C, False, False),
    ],
)
def test_only_sev_a_24x7_qualifies(severity: Severity, is_24x7: bool, qualifies: bool) -> None:
    case = make_case(severity, is_24x7)
    assert qualifies_as_24x7(case) is qualifies
    assert (downgrade_hint(case) is None) is qualifies


def test_downgrade_hint_for_sev_a_without_24x7_mentions_downgrade() -> None:
    hint = downgrade_hint(make_case(Severity.A, False))
    assert hint is not None
    assert "Sev B" in hint
    assert "non-24x7" in hint


def test_downgrade_hint_for_sev_b_points_to_non_24x7() -> None:
    hint = downgrade_hint(make_case(Severity.B, True))
    assert hint is not None
    assert "Sev B case" in hint
    assert "non-24x7 handoff" in hint


@pytest.mark.parametrize(
    ("customer_asked", "meets_criteria", "required"),
    [(True, True, False), (True, False, False), (False, True, False), (False, False, True)],
)
def test_justification_required(customer_asked: bool, meets_criteria: bool, required: bool) -> None:
    assert justification_required(customer_asked, meets_criteria) is required


@pytest.mark.parametrize(
    "reason",
    [
        TransferReason.EXTENDED_TIME_OFF,
        TransferReason.OUT_WITH_URGENT_ISSUE,
        "Going on vacation next week",
        "PTO tomorrow",
        "I'm on leave from Monday",
        "out of office",
    ],
)
def test_leave_to_queue_warns_and_points_to_oof_flow(reason: str | TransferReason) -> None:
    warnings = dont_warnings(False, reason, False, target_is_queue=True)
    assert warnings == [LEAVE_WARNING]
    assert "out-of-office" in warnings[0]


@pytest.mark.parametrize(
    "reason", [TransferReason.CUSTOMER_TIME_ZONE, "Customer needs Japanese support", "leaves"]
)
def test_other_reasons_to_queue_do_not_warn(reason: str | TransferReason) -> None:
    assert dont_warnings(False, reason, False, target_is_queue=True) == []


def test_leave_to_a_teammate_does_not_warn() -> None:
    assert dont_warnings(False, TransferReason.EXTENDED_TIME_OFF, False, False) == []


def test_resolved_pending_confirmation_warns_only_for_queue() -> None:
    assert dont_warnings(True, TransferReason.NEEDS_SME, False, True) == [RESOLVED_WARNING]
    assert dont_warnings(True, TransferReason.NEEDS_SME, False, False) == []


def test_severity_raise_for_speed_always_warns() -> None:
    assert dont_warnings(False, TransferReason.OTHER, True, False) == [SEVERITY_WARNING]


def test_all_warnings_in_spec_order() -> None:
    warnings = dont_warnings(True, "vacation", True, True)
    assert warnings == [LEAVE_WARNING, RESOLVED_WARNING, SEVERITY_WARNING]


def test_transfer_reasons_have_labels_and_scopes() -> None:
    assert {reason.scope for reason in TransferReason} == set(TransferScope)
    assert all(reason.label for reason in TransferReason)
    assert TransferReason.CUSTOMER_TIME_ZONE.scope is TransferScope.BETWEEN_REGIONS
    assert TransferReason.NEEDS_SME.scope is TransferScope.WITHIN_REGION
    assert TransferReason.OTHER.label == "Other (explain in the notes)"
    assert len({reason.label for reason in TransferReason}) == len(TransferReason)
