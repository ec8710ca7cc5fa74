"""Carries out the outbox messages of handoff/effects.py in Teams: the Case Transfer card
posted and updated in place, people told in their personal chat, R-STAY reminders."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from application import messages
from application.channel import case_transfer_channel
from application.outbox_steps.reader_language import speaking_to
from application.outbox_steps.sender import Sender, personal_chat, teams_user_id
from application.request import Card, Said
from cards.transfer_card import answer_card, handoff_card
from cards.user_views import MAX_REFRESH_USERS, refresh_block, refresh_users
from handoff import effects
from handoff.effects import OutboxKind
from handoff.errors import NotFound
from handoff.models import Handoff, HandoffState, Person
from handoff.notes.commitment import overdue_since
from handoff.ports import (
    CardRef,
    Clock,
    ConversationStore,
    EscalationStore,
    GroupChatStore,
    HandledKeys,
    HandoffRepository,
    Outbox,
    OutboxItem,
    SettingsStore,
    UserSettingsStore,
)
from i18n import _, speaking
from i18n.languages import ENGLISH
from outbox.failures import PermanentFailure
from outbox.worker import Handler, SendJournal

log = logging.getLogger(__name__)

MAX_STAY_REMINDERS = 24


class Store(
    HandoffRepository,
    ConversationStore,
    SettingsStore,
    GroupChatStore,
    UserSettingsStore,
    EscalationStore,
    HandledKeys,
    Outbox,
    Protocol,
):
    """The storage the bot needs (one SqlStore provides all of it)."""


@dataclass(frozen=True)
class StayPolicy:
    """R-STAY: how often the owner of an unaccepted critical handoff is reminded, and when
    the regional SMEs are told."""

    interval: timedelta
    tell_smes_after: timedelta


async def owned_open_cases(store: HandoffRepository, person_id: str) -> list[Handoff]:
    """The cases a person owns now: they accepted the case's latest handoff."""
    cases = []
    for handoff in await store.involving(person_id, limit=100):
        owned = handoff.owner is not None and handoff.owner.id == person_id
        if not owned or handoff.state is not HandoffState.ACCEPTED:
            continue
        latest = await store.latest_for_case(handoff.case.number)
        if latest is not None and latest.id == handoff.id:
            cases.append(handoff)
    return cases


class EffectHandlers:
    def __init__(
        self,
        store: Store,
        sender: Sender,
        clock: Clock,
        *,
        configured_channel: str,
        stay: StayPolicy,
        smes: dict[str, tuple[Person, ...]],
        leads: Sequence[Person] = (),
        case_url_template: str | None = None,
        team_language: str = ENGLISH.code,
    ) -> None:
        self._case_url_template = case_url_template
        # What the Case Transfer channel is told is in the team's language (case_transfer).
        self._team_language = team_language
        self._store = store
        self._sender = sender
        self._clock = clock
        self._configured_channel = configured_channel
        self._stay = stay
        self._smes = smes
        self._leads = tuple(leads)

    def table(self) -> dict[str, Handler]:
        return {
            OutboxKind.POST_CARD: self.post_card,
            OutboxKind.UPDATE_CARD: self.update_card,
            OutboxKind.NOTIFY: self.notify,
            OutboxKind.STAY_REMINDER: self.stay_reminder,
        }

    async def _tell(
        self, person: Person, messages: Sequence[Said], journal: SendJournal | None
    ) -> None:
        address = await personal_chat(self._store, person)
        if address is None:
            raise PermanentFailure(
                f"no personal chat with {person.name or person.id}: they have not installed the bot"
            )
        for message in messages:
            await self._sender.send(address.reference, message, journal)

    async def post_card(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        handoff = await self._store.get(item.payload["handoff_id"])
        if await self._store.card_of(handoff.id) is not None:
            return  # posted already (a repeat after setup, or a retry after a crash)
        channel_id = await case_transfer_channel(self._store, self._configured_channel)
        address = await self._store.channel_conversation(channel_id) if channel_id else None
        if address is None:
            async with speaking_to(self._store, handoff.requester):
                text = _card_not_posted(handoff.case.number, channel_bound=bool(channel_id))
            await self._tell(handoff.requester, [text], journal)
            return
        activity_id = await self._sender.send(
            address.reference, await self._channel_card(handoff), journal
        )
        await self._store.set_card(
            handoff.id, CardRef(conversation_id=address.conversation_id, activity_id=activity_id)
        )

    async def update_card(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        try:
            handoff, card = await self._store.with_card(item.payload["handoff_id"])
        except NotFound:
            return  # gone with its case (retention): so is its card
        if card is None:
            return  # never posted (no channel yet): nothing to update
        address = await self._store.get_conversation(card.conversation_id)
        if address is None:
            raise PermanentFailure(f"the conversation {card.conversation_id} is no longer known")
        # The card the change drew (application/transfers.py) goes as it is while it is the
        # current version's and says the same of the customer's next contact as now (drawn as
        # of the change). Else, or for an update without a card (the contact falling due,
        # handoff/notes/commitment.py), the card shows the handoff as it is now.
        drawn = item.payload.get("card")
        if (
            isinstance(drawn, dict)
            and item.payload.get("version") == handoff.version
            and overdue_since(handoff, handoff.updated_at)
            == overdue_since(handoff, self._clock.now())
        ):
            readers = await self._readers(handoff)
            content = Card({**drawn, "refresh": refresh_block(handoff, readers)})
        else:
            content = await self._channel_card(handoff)
        await self._sender.update(address.reference, card.activity_id, content)

    async def _channel_card(self, handoff: Handoff) -> Card:
        """The team's card, whose refresh gives the handoff's requester, owner and named
        engineer and the leads their own copies (see _readers)."""
        users = await self._readers(handoff)
        with speaking(self._team_language):
            return Card(
                handoff_card(
                    handoff,
                    refresh_users=users,
                    now=self._clock.now(),
                    case_url_template=self._case_url_template,
                )
            )

    async def _readers(self, handoff: Handoff) -> tuple[str, ...]:
        """Whose Teams asks for their own copy of the card: at most Teams' limit of people,
        those of the handoff first, then the leads in the configuration's order (the last ones
        left out). Someone whose Teams id the bot has not seen (an engineer named by e-mail, a
        lead who never chatted with it) sees the team's card until they pick Refresh in its
        menu."""
        people = (handoff.requester, handoff.owner, handoff.target_engineer, *self._leads)
        ids = [await teams_user_id(self._store, p) for p in people if p is not None]
        users = refresh_users(i for i in ids if i)
        if users.left_out:
            log.warning(
                "card refresh limited to the first people Teams takes",
                extra={
                    "handoff_id": handoff.id,
                    "limit": MAX_REFRESH_USERS,
                    "left_out": list(users.left_out),
                },
            )
        return users.ids

    async def notify(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        person = Person.model_validate(item.payload["person"])
        # The text (and a card given with it) was written when the item was made.
        messages: list[Said] = [item.payload["text"]]
        if isinstance(item.payload.get("card"), dict):
            messages.append(Card(item.payload["card"]))
        if item.payload.get("ask_answer"):
            handoff = await self._store.get(item.payload["handoff_id"])
            if handoff.state is HandoffState.MORE_INFO_NEEDED:
                async with speaking_to(self._store, person):
                    messages.append(Card(answer_card(handoff, self._case_url_template)))
        await self._tell(person, messages, journal)

    async def stay_reminder(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        handoff = await self._store.get(item.payload["handoff_id"])
        number = int(item.payload["number"])
        if handoff.state in (HandoffState.ACCEPTED, HandoffState.CANCELLED):
            return
        now = self._clock.now()
        waited = now - handoff.created_at
        tell_smes = waited >= self._stay.tell_smes_after and not item.payload.get("smes_told")
        if number < MAX_STAY_REMINDERS:
            # Scheduled before anything is sent: a retry of this item then sends again but
            # schedules nothing twice (the follow-up's key is taken).
            follow_up = effects.stay_reminder(handoff, now + self._stay.interval, number + 1)
            told = tell_smes or bool(item.payload.get("smes_told"))
            payload = {**follow_up.payload, "smes_told": told}
            await self._store.enqueue_message(follow_up.model_copy(update={"payload": payload}))
        if tell_smes:
            # Each SME's notice is an item of its own in their chat: one who cannot be
            # reached holds up nobody, and the requester hears of it (outbox_steps/undelivered.py).
            route = f"{handoff.from_region} → {handoff.target_region}"
            smes = self._smes.get(handoff.from_region, ()) + self._smes.get(
                handoff.target_region, ()
            )
            for sme, notice in zip(
                smes, effects.stay_sme_notices(handoff, smes, "", now), strict=True
            ):
                # Each SME's notice written in their own language.
                async with speaking_to(self._store, sme):
                    sme_text = messages.stay_smes(handoff.case.number, route, waited)
                payload = {**notice.payload, "text": sme_text}
                await self._store.enqueue_message(notice.model_copy(update={"payload": payload}))
        async with speaking_to(self._store, handoff.requester):
            text = messages.stay_reminder(handoff.case.number, waited)
            if tell_smes and not smes:
                text += " " + effects.no_sme_reachable()
        await self._tell(handoff.requester, [text], journal)


def _card_not_posted(number: str, *, channel_bound: bool) -> str:
    """Told to the requester when their handoff's card has no channel to go to."""
    if not channel_bound:
        return _(
            "Your handoff of case {number} is saved, but I could not post its card: no Case "
            "Transfer channel is set up: a team owner @mentions me with **setup** in that "
            "channel. I post it as soon as the channel is set up; meanwhile **status {number}** "
            "shows it."
        ).format(number=number)
    return _(
        "Your handoff of case {number} is saved, but I could not post its card: I am not in the "
        "team of the configured Case Transfer channel. I post it as soon as the channel is set "
        "up; meanwhile **status {number}** shows it."
    ).format(number=number)
