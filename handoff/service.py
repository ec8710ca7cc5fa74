"""Applies handoff commands through the repository: the one place where changes are written,
each with its audit events and the outbox messages that carry it to Teams."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from i18n import _

from . import effects
from .errors import ConcurrencyConflict, DomainError, IllegalTransition
from .long_running import assess, why_not_flaggable
from .models import AuditEvent, Handoff, HandoffOutputs, Person, as_utc
from .notes import commitment
from .ports import AlreadyHandled, ChangedMeanwhile, Clock, HandoffRepository, OutboxMessage
from .request import HandoffAnswers, new_handoff
from .state_machine import (
    Accept,
    Command,
    ProvideInfo,
    RequestMoreInfo,
    apply,
    request_event,
    state_in_words,
)


@dataclass(frozen=True)
class ActionOutcome:
    """The handoff as it is now; `notice` says to the clicker why nothing changed;
    `repeated`: the action's idempotency key was handled before, so it did nothing again;
    `card`: the channel card of the change, as stored with its update (see HandoffService.act)."""

    handoff: Handoff
    changed: bool
    notice: str | None = None
    repeated: bool = False
    card: dict[str, Any] | None = None


ChannelCard = Callable[[Handoff], dict[str, Any]]
"""The Case Transfer channel's card of a handoff as its last change left it (at its
updated_at), as the application draws it."""


class HandoffService:
    def __init__(
        self,
        repository: HandoffRepository,
        clock: Clock,
        *,
        stay_interval: timedelta = timedelta(hours=1),
        smes: Mapping[str, tuple[Person, ...]] | None = None,
        commitment_notice: timedelta = commitment.DEFAULT_NOTICE,
    ) -> None:
        self._repository = repository
        self._clock = clock
        self._stay_interval = stay_interval
        self._commitment_notice = commitment_notice
        self._smes = dict(smes or {})

    async def request(
        self,
        answers: HandoffAnswers,
        outputs: HandoffOutputs,
        requester: Person,
        conversation_id: str | None = None,
    ) -> Handoff:
        """Stores a new handoff in state `requested`; DuplicateOpenHandoff if the case has one."""
        handoff = new_handoff(answers, outputs, requester, self._clock.now())
        earlier = await self._repository.latest_for_case(handoff.case.number)
        if earlier is not None and earlier.technical_level:
            # The level reached is the case's, not one handoff's (R-ESC).
            handoff = handoff.model_copy(update={"technical_level": earlier.technical_level})
        event = request_event(handoff, conversation_id)
        event = event.model_copy(update={"data": {"path": list(outputs.path)}})
        outbox = effects.on_request(handoff, self._stay_interval)
        outbox += commitment.reminders(handoff, handoff.created_at, self._commitment_notice)
        await self._repository.add(handoff, [event], outbox)
        return handoff

    async def revise(
        self,
        handoff_id: str,
        expected_version: int,
        answers: HandoffAnswers,
        outputs: HandoffOutputs,
        actor: Person,
        conversation_id: str | None = None,
    ) -> Handoff:
        """Replaces an open handoff's answers (a second `handoff` for the same case).
        ConcurrencyConflict if it changed since `expected_version`; IllegalTransition if it
        is closed or is another case's."""
        existing = await self._repository.get(handoff_id)
        if existing.case.number != answers.case.number:
            raise IllegalTransition(
                _("The open handoff is for case {number}, not {other}.").format(
                    number=existing.case.number, other=answers.case.number
                )
            )
        if not existing.state.is_open:
            raise IllegalTransition(
                _(
                    "The handoff of case {number} is {state}; start a new one instead of "
                    "updating it."
                ).format(number=existing.case.number, state=state_in_words(existing.state))
            )
        if existing.version != expected_version:
            raise ConcurrencyConflict(existing.case.number)
        fresh = new_handoff(answers, outputs, existing.requester, self._clock.now())
        changes = {
            field: getattr(fresh, field)
            for field in (
                "case",
                "kind",
                "from_region",
                "target_region",
                "target_engineer",
                "reason",
                "reason_code",
                "customer_asked",
                "notes",
                "outputs",
            )
        }
        return await self._annotate(
            existing, changes, "revised", actor, conversation_id, {"path": list(outputs.path)}
        )

    async def flag_long_running(
        self,
        handoff_id: str,
        actor: Person,
        reason: str,
        conversation_id: str | None = None,
        claim: str | None = None,
        seen_version: int | None = None,
    ) -> Handoff:
        """R-LONG by hand: the customer works in two time zones and transfers keep happening.
        ConcurrencyConflict if it changed meanwhile (or since `seen_version`); AlreadyHandled
        if `claim` was recorded; IllegalTransition, saying why, for a handoff that cannot be
        flagged (closed, flagged already, not a Sev A/B 24x7 case)."""
        handoff = await self._repository.get(handoff_id)
        if seen_version is not None and seen_version != handoff.version:
            raise ConcurrencyConflict(_out_of_date(handoff))
        refusal = why_not_flaggable(handoff)
        if refusal is not None:
            raise IllegalTransition(refusal)
        verdict = assess([handoff], flagged_reason=reason)
        return await self._annotate(
            handoff,
            {"long_running": verdict.reason},
            "long_running",
            actor,
            conversation_id,
            {"reason": reason},
            also=effects.on_long_running,
            claim=claim,
        )

    async def record_technical_escalation(
        self, handoff_id: str, level: str, actor: Person, conversation_id: str | None = None
    ) -> Handoff:
        """R-ESC: the case went up one technical level; the step stays in its history."""
        handoff = await self._repository.get(handoff_id)
        return await self._annotate(
            handoff,
            {"technical_level": level},
            "technical_escalation",
            actor,
            conversation_id,
            {"level": level},
        )

    async def _annotate(
        self,
        handoff: Handoff,
        changes: dict[str, object],
        kind: str,
        actor: Person,
        conversation_id: str | None,
        data: dict[str, object],
        also: Callable[[Handoff, AuditEvent], list[OutboxMessage]] | None = None,
        claim: str | None = None,
    ) -> Handoff:
        """A change that keeps the state (a revision, a flag): a new version, its event, the
        card updated; ConcurrencyConflict if someone changed the handoff meanwhile."""
        at = as_utc(self._clock.now())
        changed = handoff.model_copy(
            update={**changes, "version": handoff.version + 1, "updated_at": at}
        )
        event = AuditEvent(
            handoff_id=handoff.id,
            case_number=handoff.case.number,
            kind=kind,
            actor=actor,
            at=at,
            from_state=handoff.state,
            to_state=handoff.state,
            conversation_id=conversation_id,
            data=data,
        )
        outbox = [*effects.on_change(changed, event), *(also(changed, event) if also else [])]
        # A revision may promise the customer another time: its reminder follows.
        outbox += commitment.reminders(changed, at, self._commitment_notice)
        await self._repository.save(changed, handoff.version, [event], outbox, claim)
        return changed

    async def act(
        self,
        handoff_id: str,
        command: Command,
        seen_version: int | None = None,
        conversation_id: str | None = None,
        claim: str | None = None,
        *,
        current: Handoff | None = None,
        case: Sequence[Handoff] | None = None,
        card: ChannelCard | None = None,
    ) -> ActionOutcome:
        """Applies a card action to the handoff (`current`: as the caller has just read it,
        `case`: with every handoff of its case). A click on an out-of-date card, a move the
        state does not allow, or a race lost to another clicker changes nothing and says
        why; NotFound and invalid commands raise. `claim` is the click's idempotency key,
        recorded with the change: a click whose key was recorded before (or whose twin in
        flight won) changes nothing and is `repeated`. `card` draws the channel card of the
        change once it is known to be written, stored with the card's update so that the
        outbox sends it as it is (and the caller may show it too: ActionOutcome.card)."""
        handoff = current if current is not None else await self._repository.get(handoff_id)
        if seen_version is not None and seen_version != handoff.version:
            return ActionOutcome(handoff, False, _out_of_date(handoff))
        try:
            transition = apply(handoff, command, self._clock.now(), conversation_id)
        except DomainError as refusal:
            return ActionOutcome(handoff, False, str(refusal))
        changed = transition.handoff
        if isinstance(command, RequestMoreInfo):
            changed = changed.model_copy(update={"open_question": command.question})
        elif isinstance(command, ProvideInfo):
            notes = changed.notes
            pair = f"Q: {handoff.open_question or '(question)'} A: {command.answer}"
            changed = changed.model_copy(
                update={
                    "open_question": None,
                    "notes": notes.model_copy(
                        update={"questions_answered": (*notes.questions_answered, pair)}
                    ),
                }
            )
        [event] = transition.events
        smes = self._smes.get(handoff.target_region, ()) + self._smes.get(handoff.from_region, ())
        outbox = effects.on_change(changed, event, smes)
        # The promise to the customer goes with the case: an accept gives it a new holder.
        outbox += commitment.reminders(
            changed, event.at, self._commitment_notice, taken=isinstance(command, Accept)
        )
        if isinstance(command, Accept) and changed.long_running is None:
            if case is None:
                case = await self._repository.for_case(changed.case.number)
            verdict = assess([*(h for h in case if h.id != changed.id), changed])
            if verdict.long_running:
                changed = changed.model_copy(update={"long_running": verdict.reason})
                outbox += effects.on_long_running(changed, event)
        drawn: list[dict[str, Any]] = []

        def with_card() -> list[OutboxMessage]:
            drawn.append(card(changed) if card else {})
            update = effects.card_update(changed, event.at, drawn[0])
            return [update if m.dedupe_key == update.dedupe_key else m for m in outbox]

        try:
            await self._repository.save(
                changed, handoff.version, transition.events, with_card if card else outbox, claim
            )
        except AlreadyHandled as repeated:
            current = repeated.current or await self._repository.get(handoff_id)
            return ActionOutcome(current, False, repeated=True)
        except ConcurrencyConflict as conflict:
            if isinstance(conflict, ChangedMeanwhile):
                current = conflict.current
            else:
                current = await self._repository.get(handoff_id)
            return ActionOutcome(current, False, _out_of_date(current))
        return ActionOutcome(changed, True, card=drawn[0] if drawn else None)


def _out_of_date(handoff: Handoff) -> str:
    state = state_in_words(handoff.state)
    if handoff.owner and handoff.owner.name:
        return _(
            "Someone acted on this handoff first: it is {state} by {owner} now. This is the "
            "current card."
        ).format(state=state, owner=handoff.owner.name)
    return _(
        "Someone acted on this handoff first: it is {state} now. This is the current card."
    ).format(state=state)
