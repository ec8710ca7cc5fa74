"""R-ESC's approval cards in the Team Leaders' personal chats, carried out from the outbox.

Each lead's card is an outbox item of its own in that lead's chat lane, keyed on escalation,
version and lead (handoff.effects.approval_cards): it goes out in order with everything else
the bot says to that lead, and a lead whose chat is throttled (429), failing (5xx) or gone
(403, no personal chat) holds up no other lead. The card each lead got is recorded
(escalation_cards), so after a decision each lead's own item updates that card in place;
it waits behind the lead's send in the lane, and does nothing for a card never sent. The
requester gets no card: they may not decide their own escalation.

"The card reached nobody" is found out at two moments, each where it is certain:

- At `escalate`, from `reachable_leads` (application.escalations): when no lead besides the
  requester has a personal chat with the bot, no item is made, nothing is recorded, and the
  engineer is told at once what to ask for. A personal chat, once known, is never
  forgotten, so each lead an item is made for still has one when it is sent.
- Once every lead's item is settled: a send can still fail for good (the lead removed the
  bot, or the connector kept failing past the last attempt). The worker runs
  `tell_if_nobody_reached` for a dead item only after writing it dead, so whichever of the
  items dies last (on any replica) sees all the others dead too; if no card was recorded,
  the engineer is told, once per escalation. While another lead's item is pending, its own
  end decides; a done one means a lead has the card.

Items of the old layout (one for every lead, lane `escalation:<id>`) still waiting after an
upgrade are split into the per-lead items (`split`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from application import messages
from application.outbox_steps.follow_ups import Store
from application.outbox_steps.reader_language import speaking_to
from application.outbox_steps.sender import Sender
from application.request import Card
from cards.escalation_card import approval_card
from handoff import effects
from handoff.effects import OutboxKind
from handoff.escalation import Escalation, EscalationState
from handoff.models import Person
from handoff.ports import (
    CardRef,
    Clock,
    ConversationAddress,
    OutboxItem,
    OutboxMessage,
    OutboxState,
)
from outbox.failures import PermanentFailure
from outbox.worker import Handler, SendJournal

log = logging.getLogger(__name__)


def approvers(leads: Sequence[Person], requester: Person) -> list[Person]:
    """The leads who may decide the requester's escalation: all but the requester."""
    mine = {requester.id, requester.aad_object_id}
    return [lead for lead in leads if lead.id not in mine]


async def reachable_leads(store: Store, leads: Sequence[Person], requester: Person) -> list[Person]:
    """The approvers that have a personal chat with the bot, i.e. that a card can reach."""
    return [
        lead
        for lead in approvers(leads, requester)
        if await store.personal_conversation(lead.id) is not None
    ]


def _is(address: ConversationAddress, lead: Person) -> bool:
    user = address.user
    return user is not None and lead.id in (user.id, user.aad_object_id)


class ApprovalCardHandlers:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        leads: Sequence[Person],
        clock: Clock,
        case_url_template: str | None = None,
    ) -> None:
        self._case_url_template = case_url_template
        self._store = store
        self._sender = sender
        self._leads = tuple(leads)
        self._clock = clock

    def table(self) -> dict[str, Handler]:
        return {
            OutboxKind.SEND_APPROVAL_CARD: self.send,
            OutboxKind.UPDATE_APPROVAL_CARD: self.update,
            OutboxKind.SEND_APPROVAL_CARDS: self.split,
            OutboxKind.UPDATE_APPROVAL_CARDS: self.split,
        }

    async def _card(
        self, escalation: Escalation, lead: Person, address: ConversationAddress
    ) -> Card:
        """The card as `lead` reads it, in their language."""
        async with speaking_to(self._store, lead, address):
            return Card(approval_card(escalation, case_url_template=self._case_url_template))

    def on_dead(self) -> dict[str, Handler]:
        return {OutboxKind.SEND_APPROVAL_CARD: self.tell_if_nobody_reached}

    async def _card_of(
        self, escalation_id: str, lead: Person
    ) -> tuple[CardRef, ConversationAddress] | None:
        """The approval card this lead got, and the chat it is in."""
        for card in await self._store.escalation_cards(escalation_id):
            address = await self._store.get_conversation(card.conversation_id)
            if address is not None and _is(address, lead):
                return card, address
        return None

    async def send(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        escalation = await self._store.get_escalation(item.payload["escalation_id"])
        lead = Person.model_validate(item.payload["lead"])
        if await self._card_of(escalation.id, lead) is not None:
            return  # sent before (an item an admin sent again, or one split from an old item)
        address = await self._store.personal_conversation(lead.id)
        if address is None:
            raise PermanentFailure(
                f"no personal chat with Team Leader {lead.name or lead.id}: they have not "
                "installed the bot"
            )
        # A retry after the send (the record below failed) gets the sent card's id back from
        # the send journal instead of sending it again.
        card = await self._card(escalation, lead, address)
        activity_id = await self._sender.send(address.reference, card, journal)
        await self._store.add_escalation_card(
            escalation.id,
            CardRef(conversation_id=address.conversation_id, activity_id=activity_id),
        )

    async def update(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        escalation = await self._store.get_escalation(item.payload["escalation_id"])
        lead = Person.model_validate(item.payload["lead"])
        sent = await self._card_of(escalation.id, lead)
        if sent is None:
            return  # this lead never got the card (its send is a dead letter): nothing to show
        sent_card, address = sent
        card = await self._card(escalation, lead, address)
        await self._sender.update(address.reference, sent_card.activity_id, card)

    async def tell_if_nobody_reached(
        self, item: OutboxItem, journal: SendJournal | None = None
    ) -> None:
        """Run once a lead's card item is dead: the engineer must not wait for a decision
        that no lead can make."""
        escalation = await self._store.get_escalation(item.payload["escalation_id"])
        if escalation.state is not EscalationState.PENDING:
            return
        if await self._store.escalation_cards(escalation.id):
            return
        asked = [Person.model_validate(lead) for lead in item.payload["asked"]]
        # The cards are sent at the escalation's first version, when it is asked for.
        keys = [
            effects.approval_card_key(OutboxKind.SEND_APPROVAL_CARD, escalation.id, 1, lead.id)
            for lead in asked
        ]
        states = await self._store.outbox_states(keys)
        if any(state is not OutboxState.DEAD for state in states.values()):
            return  # a card is on its way, or still being tried: its own end decides
        log.warning(
            "the approval card reached no Team Leader",
            extra={"case": escalation.case_number, "escalation_id": escalation.id},
        )
        await self._store.enqueue_message(await self._nobody_reached(escalation, asked))

    async def _nobody_reached(
        self, escalation: Escalation, asked: Sequence[Person]
    ) -> OutboxMessage:
        names = [lead.name or lead.id for lead in asked]
        async with speaking_to(self._store, escalation.requester):
            text = messages.approval_reached_nobody(escalation.case_number, names)
        return effects.tell(
            escalation.requester,
            text,
            f"escalation:{escalation.id}:reached-nobody",
            self._clock.now(),
        )

    async def split(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        """An item for every lead at once, enqueued before the upgrade to one item per lead:
        it becomes the per-lead items it stands for (one for a lead without a personal chat
        dies at once, and if all do, the engineer is told, as for any card)."""
        escalation = await self._store.get_escalation(item.payload["escalation_id"])
        update = item.kind == OutboxKind.UPDATE_APPROVAL_CARDS
        leads = approvers(self._leads, escalation.requester)
        version = escalation.version if update else 1
        now = self._clock.now()
        for part in effects.approval_cards(
            escalation.id,
            version,
            leads,
            now,
            update=update,
            requester=escalation.requester,
            case_number=escalation.case_number,
        ):
            await self._store.enqueue_message(part)
