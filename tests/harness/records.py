"""Handoff records for tests that need cases already in the database (not typed in a dialog)."""

from __future__ import annotations

from datetime import datetime

from handoff.models import (
    AuditEntry,
    AuditKind,
    Case,
    Handoff,
    HandoffKind,
    HandoffNotes,
    HandoffOutputs,
    Person,
    Severity,
    SupportPlan,
)
from handoff.ports import Clock
from handoff.request import HandoffAnswers
from handoff.user_settings import UserSettings, changes

# What the dialog would have produced; these tests look at other things.
PLACEHOLDER_OUTPUTS = HandoffOutputs(
    title="t",
    mail_to="q@example.invalid",
    mail_subject="s",
    mail_body="b",
    mailto_url="mailto:",
    notes_text="n",
    customer_message="c",
    next_step="x",
)


def requested(number: str, requester: Person, at: datetime) -> Handoff:
    """A requested, non-24x7 handoff of a Kafka case from EMEA to US, created at `at`."""
    return Handoff(
        case=Case(
            number=number,
            severity=Severity.B,
            is_24x7=False,
            plan=SupportPlan.PROFESSIONAL,
            product_skill="Kafka",
            customer_region="US",
            customer_timezone="America/Chicago",
        ),
        kind=HandoffKind.NON_24X7,
        requester=requester,
        from_region="EMEA",
        target_region="US",
        reason="Customer needs US hours",
        created_at=at,
        updated_at=at,
    )


def answers(
    number: str,
    origin: str,
    target: str,
    *,
    severity: Severity = Severity.A,
    is_24x7: bool = True,
    notes: HandoffNotes | None = None,
    customer_region: str = "US",
    customer_timezone: str = "America/Chicago",
) -> HandoffAnswers:
    """A between-regions handoff of an HDInsight case, as the dialog would hand it over."""
    return HandoffAnswers(
        case=Case(
            number=number,
            severity=severity,
            is_24x7=is_24x7,
            plan=SupportPlan.PREMIER,
            product_skill="HDInsight",
            customer_region=customer_region,
            customer_timezone=customer_timezone,
        ),
        owner_region=origin,
        target_region=target,
        kind_choice="between",
        reason="continual support",
        notes=notes or HandoffNotes(summary="Autoscale stops at 20 nodes since the upgrade."),
    )


def said_by(person: Person, settings: UserSettings, clock: Clock) -> AuditEntry:
    """The audit entry of `person` setting these settings (as `settings` in a chat would)."""
    return AuditEntry(
        kind=AuditKind.SETTINGS_CHANGED,
        actor=person,
        at=clock.now(),
        subject=person.id,
        data=changes(None, settings),
    )
