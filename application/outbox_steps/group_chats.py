"""R-LONG group chats through Microsoft Graph, one outbox step at a time: create the chat
(looked up first, so a retry never makes a second), install the bot in it, and once Teams
tells the bot it was installed, post the case summary and the chat's rules. What the chat
is told is in the team's language (case_transfer.language), as in the Case Transfer channel;
what a person is told in their own chat, in theirs."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import NoReturn

from application.outbox_steps.follow_ups import Store
from application.outbox_steps.reader_language import speaking_to
from application.outbox_steps.sender import Sender
from application.request import Card
from cards.transfer_card import handoff_card
from graph.client import GraphClient
from graph.errors import GraphAuthError, GraphError, GraphTransientError
from handoff import effects
from handoff.effects import OutboxKind
from handoff.long_running import (
    GroupChat,
    GroupChatState,
    chat_rules,
    next_owner,
    shift_end_reminder_at,
)
from handoff.models import HandoffState, Person
from handoff.ports import Clock, OutboxItem
from handoff.schedule import Schedule
from i18n import _, speaking
from i18n.languages import ENGLISH
from outbox.failures import PermanentFailure
from outbox.worker import Handler, SendJournal

log = logging.getLogger(__name__)

# A long-running case whose handoffs stopped this long ago no longer needs shift reminders.
QUIET_CASE = timedelta(days=7)


class GroupChatHandlers:
    def __init__(
        self,
        store: Store,
        graph: GraphClient | None,
        sender: Sender,
        clock: Clock,
        teams_app_id: str,
        schedule: Schedule,
        case_url_template: str | None = None,
        team_language: str = ENGLISH.code,
    ) -> None:
        self._case_url_template = case_url_template
        self._team_language = team_language
        self._store = store
        self._graph = graph
        self._sender = sender
        self._clock = clock
        self._teams_app_id = teams_app_id
        self._schedule = schedule

    def table(self) -> dict[str, Handler]:
        return {
            OutboxKind.CREATE_GROUP_CHAT: self.create,
            OutboxKind.INSTALL_CHAT_APP: self.install,
            OutboxKind.POST_CHAT_SUMMARY: self.post_summary,
            OutboxKind.CHAT_SHIFT_REMINDER: self.shift_reminder,
        }

    async def _chat(self, item: OutboxItem) -> GroupChat:
        chat = await self._store.group_chat(item.payload["case_number"])
        if chat is None:
            raise PermanentFailure(f"no group chat planned for case {item.payload['case_number']}")
        return chat

    async def _next(self, kind: str, item: OutboxItem) -> None:
        attempt = str(item.payload.get("attempt") or "")
        case_number = item.payload["case_number"]
        step = effects.group_chat_step(kind, case_number, self._clock.now(), attempt)
        await self._store.enqueue_message(step)

    async def _fail(
        self, chat: GroupChat, error: GraphError | GraphAuthError, journal: SendJournal | None
    ) -> NoReturn:
        """A failure no retry mends: say what an admin must do, keep the case as it was."""
        await self._store.update_group_chat(
            chat.case_number, GroupChatState.FAILED, error=str(error)
        )
        handoff = await self._store.latest_for_case(chat.case_number)
        if handoff is not None:
            for person in {p.id: p for p in (handoff.owner, handoff.requester) if p}.values():
                try:
                    await self._tell(person, chat.case_number, error, journal)
                except Exception:
                    log.exception("could not tell about a failed group chat")
        raise PermanentFailure(str(error))

    async def _tell(
        self,
        person: Person,
        case_number: str,
        error: GraphError | GraphAuthError,
        journal: SendJournal | None,
    ) -> None:
        address = await self._store.personal_conversation(person.id)
        if address is None:
            return
        async with speaking_to(self._store, person, address):
            # Translators: {error} is Microsoft Graph's own explanation, in English.
            text = _(
                "I could not make the group chat of case {number}: {error} The case itself is "
                "unchanged. Once that is fixed, type **longrunning {number} chat** to try again."
            ).format(number=case_number, error=error)
        await self._sender.send(address.reference, text, journal)

    def _graph_client(self) -> GraphClient:
        if self._graph is None or not self._teams_app_id:
            raise PermanentFailure(
                "group chats need Graph credentials (MicrosoftAppId/Password, or "
                "GRAPH_CLIENT_ID/SECRET) and TEAMS_APP_ID"
            )
        return self._graph

    async def create(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        chat = await self._chat(item)
        if chat.chat_id is None:
            graph = self._graph_client()
            try:
                chat_id = await graph.create_group_chat(
                    chat.topic, [m.aad_object_id for m in chat.members]
                )
            except GraphTransientError:
                raise  # retried by the outbox
            except (GraphError, GraphAuthError) as error:
                await self._fail(chat, error, journal)
            # Kept before anything else can fail, so a retry finds this chat.
            await self._store.update_group_chat(
                chat.case_number, GroupChatState.CREATED, chat_id=chat_id
            )
            log.info("group chat created", extra={"case": chat.case_number, "chat_id": chat_id})
        await self._next(OutboxKind.INSTALL_CHAT_APP, item)

    async def install(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        chat = await self._chat(item)
        if chat.chat_id is None:
            raise PermanentFailure(f"the chat of case {chat.case_number} was never created")
        graph = self._graph_client()
        try:
            await graph.install_app(chat.chat_id, self._teams_app_id)
        except GraphTransientError:
            raise
        except (GraphError, GraphAuthError) as error:
            await self._fail(chat, error, journal)
        if chat.state is GroupChatState.CREATED:
            await self._store.update_group_chat(chat.case_number, GroupChatState.INSTALLED)

    async def post_summary(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        chat = await self._chat(item)
        if chat.chat_id is None:
            raise PermanentFailure(f"the chat of case {chat.case_number} was never created")
        address = await self._store.get_conversation(chat.chat_id)
        handoff = await self._store.latest_for_case(chat.case_number)
        if address is None or handoff is None:
            raise PermanentFailure(f"the chat {chat.chat_id} is not known to the bot yet")
        # The first shift-end reminder is booked first: the time it is booked for must not
        # depend on how long the posts below take, and a retry books nothing twice.
        owner_region = handoff.target_region if handoff.owner else handoff.from_region
        await self._remind_at_shift_end(chat.case_number, owner_region)
        with speaking(self._team_language):
            card = handoff_card(
                handoff, now=self._clock.now(), case_url_template=self._case_url_template
            )
            rules = chat_rules()
        await self._sender.send(address.reference, Card(card), journal)
        await self._sender.send(address.reference, rules, journal)
        await self._store.update_group_chat(chat.case_number, GroupChatState.POSTED)

    async def _remind_at_shift_end(self, case_number: str, region: str) -> None:
        at = shift_end_reminder_at(self._schedule, region, self._clock.now())
        step = effects.chat_shift_reminder(case_number, region, at)
        await self._store.enqueue_message(step)

    async def shift_reminder(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        """Near the end of an owner's shift: ask them, in the chat, to hand over; then the
        next region's owner gets the same at the end of theirs."""
        chat = await self._chat(item)
        region = str(item.payload["region"])
        latest = await self._store.latest_for_case(chat.case_number)
        if latest is None or latest.state is HandoffState.CANCELLED:
            return
        if self._clock.now() - latest.updated_at > QUIET_CASE:
            # No handoff for a week: the case has settled; the reminders stop with it.
            return
        address = await self._store.get_conversation(chat.chat_id) if chat.chat_id else None
        if address is None:
            raise PermanentFailure(f"the chat of case {chat.case_number} is not known to the bot")
        owner = next((m for m in chat.members if m.region == region), None)
        successor = next_owner(chat, region, self._schedule.travel_order)
        if successor is not None:
            await self._remind_at_shift_end(chat.case_number, successor.region)
        if owner is not None and successor is not None:
            with speaking(self._team_language):
                text = _(
                    "{owner} ({region}): your shift ends soon. Update the notes and type "
                    "**shiftend** with a short summary to hand case {number} to {successor} "
                    "({successor_region})."
                ).format(
                    owner=owner.name,
                    region=region,
                    number=chat.case_number,
                    successor=successor.name,
                    successor_region=successor.region,
                )
            await self._sender.send(address.reference, text, journal)
