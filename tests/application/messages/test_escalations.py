"""What the bot says about escalations, as a reader sees it: a decision in words, with who
decided and their comment; the Team Leaders and what the notes lack read as lists."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from application import messages
from handoff.escalation import Escalation, EscalationState
from handoff.models import Person

from harness.pseudo_language import speaking_pseudo, untranslated
from harness.scenario import ANA, BO

CASE = "2311230040001234"


def decided(state: EscalationState, by: Person | None, comment: str = "") -> Escalation:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    return Escalation(
        case_number=CASE,
        requester=ANA,
        summary="s",
        steps_tried=(),
        research=(),
        state=state,
        decided_by=by,
        decided_at=at,
        comment=comment,
        version=2,
        created_at=at,
    )


@pytest.mark.parametrize(
    ("state", "by", "comment", "said"),
    [
        (
            EscalationState.APPROVED,
            BO,
            "",
            f"Bo Receiver decided the escalation of case {CASE}: approved.",
        ),
        (
            EscalationState.MORE_STEPS,
            None,
            "Try the quota first",
            f"A Team Leader decided the escalation of case {CASE}: more steps suggested. "
            "“Try the quota first”",
        ),
    ],
)
def test_a_decision_says_who_decided_what(
    state: EscalationState, by: Person | None, comment: str, said: str
) -> None:
    assert messages.escalation_decided(decided(state, by, comment)) == said


def test_a_decision_in_another_language_translates_the_decision_and_quotes_the_comment() -> None:
    with speaking_pseudo():
        said = messages.escalation_decided(decided(EscalationState.REJECTED, BO, "no"))
    assert said == f"⟦Bo Receiver decided the escalation of case {CASE}: ⟦rejected⟧.⟧ ⟦“no”⟧"
    assert untranslated(said) == []


def test_the_team_leaders_and_what_the_notes_lack_read_as_lists() -> None:
    leads = ["Lee Lead", "Kim Lead", "Tara Lead"]
    assert "no Team Leader (Lee Lead, Kim Lead, and Tara Lead) can get" in (
        messages.no_lead_reachable(CASE, leads)
    )
    assert "reached no Team Leader: sending it failed" in messages.approval_reached_nobody(CASE, [])
    said = messages.escalation_not_ready(CASE, ["the steps tried", "their logs"])
    assert (
        f"Case {CASE} is not ready for the vendor: the notes need the steps tried and their "
        in said
    )
