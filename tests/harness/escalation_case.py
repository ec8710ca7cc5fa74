"""A case ready to escalate (R-ESC): a handoff requested with the L1/L2 work in its notes,
written through the bot's own service; shared by the escalation and approval-card tests."""

from __future__ import annotations

from handoff.models import Case, HandoffNotes, Person, Severity, StepTried, SupportPlan
from handoff.ports import Clock
from handoff.request import HandoffAnswers
from handoff.service import HandoffService
from storage.sql_store import open_store

from .ids import DEFAULT_USER
from .records import PLACEHOLDER_OUTPUTS

REQUESTER = Person(
    id=DEFAULT_USER.id, name=DEFAULT_USER.name, aad_object_id=DEFAULT_USER.aad_object_id
)
READY = HandoffNotes(
    summary="Autoscale stops at 20 nodes since the upgrade; PG suspects the quota service.",
    steps_tried=(StepTried(step="Raised the core quota", outcome="same failure"),),
    research=("https://example.invalid/logs/autoscaler-2311",),
)


async def requested_case(
    database_url: str,
    clock: Clock,
    case: str,
    *,
    notes: HandoffNotes = READY,
    severity: Severity = Severity.A,
) -> None:
    """REQUESTER asks to hand `case` (EMEA → US) over with these notes."""
    store = await open_store(database_url, clock)
    try:
        answers = HandoffAnswers(
            case=Case(
                number=case,
                severity=severity,
                is_24x7=severity is Severity.A,
                plan=SupportPlan.PREMIER,
                product_skill="HDInsight",
                customer_region="US",
                customer_timezone="America/Chicago",
            ),
            owner_region="EMEA",
            target_region="US",
            kind_choice="between",
            reason="continual support",
            notes=notes,
        )
        await HandoffService(store, clock).request(answers, PLACEHOLDER_OUTPUTS, REQUESTER)
    finally:
        await store.close()
