"""Applies handoff commands through the repository: one place where changes are written."""

from __future__ import annotations

from .models import AuditEvent, Handoff, HandoffOutputs, Person, as_utc
from .ports import Clock, HandoffRepository
from .request import HandoffAnswers, new_handoff
from .state_machine import request_event


class HandoffService:
    def __init__(self, repository: HandoffRepository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock

    async def request(
        self,
        answers: HandoffAnswers,
        outputs: HandoffOutputs,
        requester: Person,
        conversation_id: str | None = None,
    ) -> Handoff:
        """Stores a new handoff in state `requested`; DuplicateOpenHandoff if the case has one."""
        handoff = new_handoff(answers, outputs, requester, self._clock.now())
        event = request_event(handoff, conversation_id)
        event = event.model_copy(update={"data": {"path": list(outputs.path)}})
        await self._repository.add(handoff, [event])
        return handoff

    async def revise(
        self,
        existing: Handoff,
        answers: HandoffAnswers,
        outputs: HandoffOutputs,
        actor: Person,
        conversation_id: str | None = None,
    ) -> Handoff:
        """Replaces an open handoff's answers (a second `handoff` for the same case);
        ConcurrencyConflict if it changed meanwhile."""
        at = as_utc(self._clock.now())
        fresh = new_handoff(answers, outputs, existing.requester, at)
        revised = existing.model_copy(
            update={
                "case": fresh.case,
                "kind": fresh.kind,
                "from_region": fresh.from_region,
                "target_region": fresh.target_region,
                "target_engineer": fresh.target_engineer,
                "reason": fresh.reason,
                "reason_code": fresh.reason_code,
                "customer_asked": fresh.customer_asked,
                "notes": fresh.notes,
                "outputs": fresh.outputs,
                "version": existing.version + 1,
                "updated_at": at,
            }
        )
        event = AuditEvent(
            handoff_id=existing.id,
            case_number=existing.case.number,
            kind="revised",
            actor=actor,
            at=at,
            from_state=existing.state,
            to_state=existing.state,
            conversation_id=conversation_id,
            data={"path": list(outputs.path)},
        )
        await self._repository.save(revised, existing.version, [event])
        return revised
