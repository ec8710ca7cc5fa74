"""R-ESC in Teams: `escalate <case>` checks the L1/L2 work and asks the Team Leaders; their
decision on the approval card is recorded, shown on every lead's card and told to the engineer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial

from cards.elements import Json
from cards.escalation_card import approval_card
from handoff import effects
from handoff.access import log_refusal
from handoff.errors import ConcurrencyConflict, DomainError, NotFound
from handoff.escalation import (
    Escalation,
    EscalationState,
    decide,
    level_name,
    missing_troubleshooting,
    next_level,
    request_escalation,
)
from handoff.models import AuditEvent, Handoff, Person, case_number_from
from handoff.ports import AlreadyHandled, Clock
from handoff.service import HandoffService
from handoff.state_machine import Verb
from i18n import N_, _

from . import messages
from .access import RequestAccess
from .clicks import click_key, pressed_before
from .outbox_steps.approval_cards import approvers, reachable_leads
from .outbox_steps.follow_ups import Store
from .request import Reply, Request

log = logging.getLogger(__name__)

# What the lead who decided is told, by the decision.
_RECORDED = {
    EscalationState.PENDING: N_("Recorded: pending."),
    EscalationState.APPROVED: N_("Recorded: approved."),
    EscalationState.MORE_STEPS: N_("Recorded: more steps suggested."),
    EscalationState.REJECTED: N_("Recorded: rejected."),
}


class Escalations:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        leads: Sequence[Person],
        is_lead: Callable[[Person], bool],
        wake_outbox: Callable[[], None],
        service: HandoffService,
        access: RequestAccess,
        case_url_template: str | None = None,
    ) -> None:
        self._service = service
        self._approval_card = partial(approval_card, case_url_template=case_url_template)
        self._access = access
        self._store = store
        self._clock = clock
        self._leads = tuple(leads)
        self._is_lead = is_lead
        self._wake_outbox = wake_outbox

    async def escalate(self, request: Request) -> Reply:
        if request.args[1:2] and request.args[1].lower() == "technical":
            return await self.technical(request)
        number = case_number_from(request.args[0]) if request.args else None
        if number is None:
            return [messages.escalate_usage()]
        handoff = await self._case_to_escalate(request, number)
        if isinstance(handoff, str):
            return [handoff]
        missing = missing_troubleshooting(handoff.notes)
        if missing:
            return [messages.escalation_not_ready(number, missing)]
        if not self._leads:
            return [messages.no_leads()]
        if await self._store.pending_escalation(number) is not None:
            return [messages.escalation_pending(number)]
        requester = request.actor
        reachable = await reachable_leads(self._store, self._leads, requester)
        if not reachable:
            # An approval card nobody can receive would wait forever: say so now and record
            # nothing, so the engineer asks again once a lead can be reached.
            log.warning(
                "escalation not sent: no Team Leader can be messaged",
                extra={"case": number, "leads": [lead.name for lead in self._leads]},
            )
            names = [lead.name or lead.id for lead in approvers(self._leads, requester)]
            return [messages.no_lead_reachable(number, names)]
        escalation = request_escalation(handoff.notes, number, requester, self._clock.now())
        cards = effects.approval_cards(
            escalation.id,
            escalation.version,
            reachable,
            escalation.created_at,
            update=False,
            requester=requester,
            case_number=number,
        )
        asked = escalation_event(handoff, escalation, requester, "escalation_requested")
        await self._store.add_escalation(escalation, cards, [asked])
        self._wake_outbox()
        return [messages.escalation_sent(number)]

    async def _case_to_escalate(self, request: Request, number: str) -> Handoff | str:
        """The case's latest handoff, if the sender may escalate it (the card's Escalate
        button's rules); else what to tell them."""
        handoff = await self._store.latest_for_case(number)
        refusal = await self._access.read_and_act(request, Verb.ESCALATE, handoff, number)
        if refusal is None and handoff is not None:
            return handoff
        return refusal or messages.no_handoff_for(number)

    async def technical(self, request: Request) -> Reply:
        """`escalate <case> technical`: one level up, L1 → L2 → SME → TL → TM → leadership."""
        number = case_number_from(request.args[0])
        if number is None:
            return [messages.escalate_usage()]
        handoff = await self._case_to_escalate(request, number)
        if isinstance(handoff, str):
            return [handoff]
        # The case's level survives new handoffs (shiftend, OOF): read all of them.
        reached = [
            str(e.data.get("level"))
            for h in await self._store.for_case(number)
            for e in await self._store.history(h.id)
            if e.kind == "technical_escalation"
        ]
        level = next_level(reached)
        if level is None:
            return [messages.escalation_at_top(number)]
        try:
            await self._service.record_technical_escalation(
                handoff.id,
                level,
                request.actor,
                request.conversation.id,
            )
        except ConcurrencyConflict:
            return [messages.changed_meanwhile()]
        self._wake_outbox()
        return [messages.technical_escalation(number, level_name(level))]

    async def decide(
        self,
        verb: str,
        escalation_id: str,
        version: int | None,
        comment: str,
        actor: Person,
        message_id: str | None = None,
    ) -> tuple[Json | None, str]:
        """The refreshed card for the clicker and what to say (nothing for a repeated click:
        it gets the current card and changes nothing); never raises for a refusal."""
        if not self._is_lead(actor):
            # Words only, before anything is looked up: an approval card is a lead's, and
            # whether an escalation exists is not the clicker's to learn.
            _refused("not a lead", verb, escalation_id, actor)
            return None, messages.only_leads_decide()
        try:
            escalation = await self._store.get_escalation(escalation_id)
        except NotFound:
            _refused("unknown escalation", verb, escalation_id, actor)
            return None, _("That escalation no longer exists.")
        if version is None or not 1 <= version <= escalation.version:
            _refused("forged version", verb, escalation_id, actor)
            return None, messages.forged_card()
        owner = await self._store.escalation_of_card(message_id) if message_id else None
        if owner is not None and owner != escalation_id:
            # The data of one escalation pasted onto another's approval card decides neither.
            # (A card not recorded yet is let through: its record follows its send.)
            _refused("escalation id of another card", verb, escalation_id, actor)
            return None, messages.forged_card()
        key = click_key("decision", message_id, actor, verb, version)
        if await pressed_before(self._store, key):
            return self._approval_card(await self._store.get_escalation(escalation_id)), ""
        if version != escalation.version:
            notice = messages.escalation_decided_first()
            return self._approval_card(escalation, notice=notice), notice
        try:
            decided = decide(escalation, verb, actor, comment, self._clock.now())
        except DomainError as refusal:
            _refused(type(refusal).__name__, verb, escalation_id, actor)
            return self._approval_card(escalation, notice=str(refusal)), str(refusal)
        at = self._clock.now()
        # Every approver's card, whether or not it was sent yet: an update waits behind its
        # lead's send in that lead's lane, and one for a card never sent does nothing.
        outbox = [
            *effects.approval_cards(
                decided.id,
                decided.version,
                approvers(self._leads, decided.requester),
                at,
                update=True,
            ),
            effects.tell(
                decided.requester,
                messages.escalation_decided(decided),
                f"escalation:{decided.id}:v{decided.version}",
                at,
            ),
        ]
        # The decision goes into the case's history, beside its handoffs' steps.
        handoff = await self._store.latest_for_case(decided.case_number)
        kind = f"escalation_{decided.state.value.replace('-', '_')}"
        events = [escalation_event(handoff, decided, actor, kind)] if handoff else []
        try:
            await self._store.save_escalation(decided, escalation.version, outbox, key, events)
        except (AlreadyHandled, ConcurrencyConflict):
            current = await self._store.get_escalation(escalation_id)
            if await pressed_before(self._store, key):
                return self._approval_card(current), ""  # the same click, delivered twice at once
            return self._approval_card(
                current, notice=messages.escalation_decided_first()
            ), messages.escalation_decided_first()
        self._wake_outbox()
        return self._approval_card(decided), _(_RECORDED[decided.state])


def _refused(reason: str, verb: str, escalation_id: str, actor: Person) -> None:
    log_refusal("escalation decision refused", reason, verb, actor, escalation_id=escalation_id)


def escalation_event(
    handoff: Handoff, escalation: Escalation, actor: Person, kind: str
) -> AuditEvent:
    """A step of an escalation in the history of the case's latest handoff."""
    comment = {"comment": escalation.comment} if escalation.comment else {}
    return AuditEvent(
        handoff_id=handoff.id,
        case_number=handoff.case.number,
        kind=kind,
        actor=actor,
        at=escalation.decided_at or escalation.created_at,
        from_state=handoff.state,
        to_state=handoff.state,
        data={**comment, "escalation_id": escalation.id},
    )
