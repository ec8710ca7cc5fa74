"""R-LONG: `longrunning <case> [why]` (where a long-running case stands, or flag
one), `longrunning <case> chat` and its regional owners card (the case's group chat), and
`shiftend` in that chat (the case handed straight to the next region's owner)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cards.long_running_card import CHAT_OWNERS, owner_field, owners_card, shown_owner
from graph.client import GraphClient
from graph.errors import GraphAuthError, GraphError
from handoff import effects
from handoff.access import log_refusal
from handoff.effects import OutboxKind
from handoff.errors import ConcurrencyConflict, IllegalTransition
from handoff.flowchart import NextStep, NextStepKind, PathStep
from handoff.long_running import (
    ChatMember,
    GroupChat,
    GroupChatState,
    can_be_long_running,
    chat_members,
    chat_topic,
    next_owner,
    regional_owners,
)
from handoff.models import Handoff, Person, case_number_from
from handoff.ports import Clock, DuplicateOpenHandoff
from handoff.request import HandoffAnswers, Queue, compose_outputs
from handoff.schedule import Schedule
from handoff.service import HandoffService
from handoff.state_machine import Verb
from i18n import _, formats

from . import messages
from .access import RequestAccess
from .outbox_steps.follow_ups import Store
from .request import Card, Reply, Request

log = logging.getLogger(__name__)

# Looking up the owners' e-mail addresses must not hold up the answer: Teams waits for it.
EMAIL_LOOKUP_SECONDS = 3.0
_EMAIL = re.compile(r"[^@\s()<>,;]+@[^@\s()<>,;]+\.[^@\s()<>,;]+")


class LongRunning:
    def __init__(
        self,
        store: Store,
        schedule: Schedule,
        clock: Clock,
        *,
        service: HandoffService,
        queue: Queue,
        access: RequestAccess,
        wake_outbox: Callable[[], None],
        graph: GraphClient | None = None,
        group_chats_missing: Sequence[str] = (),
    ) -> None:
        self._store = store
        self._schedule = schedule
        self._clock = clock
        self._service = service
        self._queue = queue
        self._access = access
        self._wake_outbox = wake_outbox
        self._graph = graph
        # What an admin must still set for group chats (config.settings): a chat asked for
        # without them is refused at once, naming them, instead of a job that dies unseen.
        self._chats_missing = tuple(group_chats_missing)

    async def long_running(self, request: Request) -> Reply:
        """R-LONG: where a long-running case stands, or flag one (`longrunning <case> <why>`)."""
        number = case_number_from(request.args[0]) if request.args else None
        if number is None:
            return [messages.long_running_usage()]
        handoffs = await self._store.for_case(number)
        latest = max(handoffs, key=lambda h: h.updated_at) if handoffs else None
        refusal = await self._access.read(request, latest, case=number)
        if refusal is not None:
            return [refusal]
        if latest is None:
            return [messages.no_handoff_for(number)]
        # A shiftend or OOF handoff starts without the mark: the case is long-running if any
        # of its handoffs is.
        marked = next((h.long_running for h in reversed(handoffs) if h.long_running), None)
        rest = " ".join(request.args[1:]).strip()
        if rest.lower() == "chat":
            if marked is None:
                return [messages.not_long_running(number)]
            return await self._plan_chat(request, latest, handoffs)
        if rest and marked is None:
            refusal = await self._access.act(request, Verb.LONG_RUNNING, latest)
            if refusal is not None:
                return [refusal]
            try:
                latest = await self._service.flag_long_running(
                    latest.id,
                    request.actor,
                    rest[:300],
                    request.conversation.id,
                )
            except ConcurrencyConflict:
                return [messages.changed_meanwhile()]
            except IllegalTransition as refused:
                return [str(refused)]
            marked = latest.long_running
            self._wake_outbox()
        if marked is None:
            can_be = can_be_long_running(latest)
            return [messages.not_long_running(number, can_be)]
        owners = regional_owners(handoffs)
        emails = await self._emails(owners.values())
        shown = {
            region: shown_owner(person, emails.get(person.aad_object_id or ""))
            for region, person in owners.items()
        }
        return [messages.long_running_status(number, marked, shown, self._chats_missing)]

    async def _emails(self, people: Iterable[Person]) -> dict[str, str]:
        """The e-mail address of each person with a directory id, by that id, from Graph when
        it is configured; whoever cannot be looked up now is shown by name alone."""
        ids = sorted({p.aad_object_id for p in people if p.aad_object_id})
        if self._graph is None or not ids:
            return {}
        graph = self._graph

        async def one(aad_id: str) -> tuple[str, str | None]:
            try:
                return aad_id, await graph.user_email(aad_id)
            except (GraphError, GraphAuthError, OSError) as error:
                log.warning("owner e-mail look-up failed", extra={"reason": type(error).__name__})
                return aad_id, None

        try:
            async with asyncio.timeout(EMAIL_LOOKUP_SECONDS):
                found = await asyncio.gather(*(one(aad_id) for aad_id in ids))
        except TimeoutError:
            log.warning("owner e-mail look-up timed out", extra={"owners": len(ids)})
            return {}
        return {aad_id: email for aad_id, email in found if email}

    async def _plan_chat(self, request: Request, latest: Handoff, handoffs: list[Handoff]) -> Reply:
        """Shows the regional owners card; the chat is made when it comes back."""
        number = latest.case.number
        refusal = await self._access.act(request, Verb.LONG_RUNNING, latest)
        if refusal is not None:
            return [refusal]
        if self._chats_missing:
            log.warning(
                "group chat asked for, but group chats are not configured",
                extra={"case": number, "missing": list(self._chats_missing)},
            )
            said = messages.group_chats_not_configured(number, self._chats_missing)
            return [said]
        existing = await self._store.group_chat(number)
        if existing is not None and existing.state is GroupChatState.FAILED:
            return await self._retry_chat(latest)
        if existing is not None:
            return [messages.chat_exists(number, existing.state.value)]
        owners = regional_owners(handoffs)
        emails = await self._emails(owners.values())
        regions = self._schedule.travel_order
        card = owners_card(number, regions, owners, {}, [], emails)
        return [Card(card)]

    async def _retry_chat(self, latest: Handoff) -> Reply:
        """A chat whose Graph steps failed for good (say, a permission an admin has since
        granted) starts again where it stopped: a chat Graph already made is not made again."""
        number = latest.case.number
        chat = await self._store.retry_group_chat(number)
        if chat is None:  # someone else's retry won, or the chat moved on meanwhile
            current = await self._store.group_chat(number)
            state = current.state.value if current else GroupChatState.REQUESTED.value
            return [messages.chat_exists(number, state)]
        kind = OutboxKind.INSTALL_CHAT_APP if chat.chat_id else OutboxKind.CREATE_GROUP_CHAT
        now = self._clock.now()
        await self._store.enqueue_message(
            effects.group_chat_step(kind, number, now, attempt=now.isoformat())
        )
        self._wake_outbox()
        log.info(
            "group chat retried",
            extra={"case": number, "step": kind, "chat_id": chat.chat_id},
        )
        return [messages.chat_retried(number, _members(chat.members))]

    async def chat_owners_submitted(self, request: Request, value: dict[str, Any]) -> Reply:
        actor = request.actor
        number = case_number_from(str(value.get("case") or ""))
        if number is None:
            return [messages.stale_form()]
        handoffs = await self._store.for_case(number)
        latest = max(handoffs, key=lambda h: h.updated_at) if handoffs else None
        # The form is only card data: whoever sends it must be allowed to act on the case,
        # where the answer is shown, and only a case flagged long-running gets a chat.
        refusal = await self._access.read_and_act(request, Verb.LONG_RUNNING, latest, number)
        if refusal is not None or latest is None:
            return [refusal or messages.stale_form()]
        if not any(h.long_running for h in handoffs):
            log_refusal("chat owners refused", "not long-running", CHAT_OWNERS, actor, case=number)
            return [messages.not_long_running(number)]
        if value.get("preference") == "regional":
            return [messages.one_regional_engineer(number)]
        if self._chats_missing:
            said = messages.group_chats_not_configured(number, self._chats_missing)
            return [said]
        owners = regional_owners(handoffs)
        members, problems = await self._resolve_owners(value, owners)
        if value.get("preference") != "global":
            problems.insert(0, _("What does the customer prefer?: choose one."))
        if len(members) < 2 and not problems:
            problems.append(_("Name owners in at least two regions for a group chat."))
        if problems:
            regions = self._schedule.travel_order
            emails = await self._emails(owners.values())
            card = owners_card(number, regions, owners, value, problems, emails)
            return [Card(card)]
        chat = GroupChat(case_number=number, topic=chat_topic(latest), members=tuple(members))
        if await self._store.plan_group_chat(chat):
            step = effects.group_chat_step(OutboxKind.CREATE_GROUP_CHAT, number, self._clock.now())
            await self._store.enqueue_message(step)
            self._wake_outbox()
        return [messages.chat_planned(number, _members(members))]

    async def _resolve_owners(
        self, value: dict[str, Any], owners: Mapping[str, Person]
    ) -> tuple[list[ChatMember], list[str]]:
        """Each region's entry as a chat member: a proposal kept as shown (or named by the
        person's name), or anyone else by e-mail address, looked up in Microsoft Graph. Only
        people from the case's own history are taken without a look-up: the card's data is
        not trusted to name anyone else."""
        proposals = chat_members(owners)
        card_data = value.get("proposed")
        shown: dict[str, Any] = card_data if isinstance(card_data, dict) else {}
        members: list[ChatMember] = []
        problems: list[str] = []
        for region in self._schedule.travel_order:
            entry = str(value.get(owner_field(region)) or "").strip()
            if not entry:
                continue
            kept = _kept(entry, shown.get(region), proposals)
            if kept is not None:
                members.append(kept.model_copy(update={"region": region}))
                continue
            address = _EMAIL.search(entry)
            try:
                found = (
                    await self._graph.find_user(address.group(0))
                    if self._graph and address
                    else None
                )
            except (GraphError, GraphAuthError) as error:
                problems.append(
                    # Translators: {region} is a region code (EMEA); {entry} what was typed for
                    # its owner; {error} what Microsoft Graph answered.
                    _("{region} owner: I could not look “{entry}” up: {error}").format(
                        region=region, entry=entry[:60], error=error
                    )
                )
                continue
            if found is None:
                problems.append(
                    _(
                        "{region} owner: I found nobody called “{entry}”; type their e-mail "
                        "address as in Teams."
                    ).format(region=region, entry=entry[:60])
                )
                continue
            members.append(ChatMember(aad_object_id=found[0], name=found[1], region=region))
        unique = {m.aad_object_id.lower(): m for m in members}
        return list(unique.values()), problems

    async def shift_end(self, request: Request) -> Reply:
        """R-LONG: in a long-running case's chat, the owner ends their shift with a summary,
        and the case goes directly to the next region's owner."""
        chat_id = request.conversation.id
        chat = await self._store.group_chat_by_id(chat_id)
        if chat is None:
            return [messages.shift_end_where()]
        summary = " ".join(request.args).strip()
        if len(summary) < 10:
            return [messages.shift_end_usage()]
        latest = await self._store.latest_for_case(chat.case_number)
        if latest is None:
            return [messages.no_handoff_for(chat.case_number)]
        actor = request.actor
        region = latest.target_region if latest.owner else latest.from_region
        current = next((m for m in chat.members if m.region == region), None)
        if current is None or current.aad_object_id != actor.aad_object_id:
            # Translators: who holds the case, said in a sentence ("Only the EMEA owner, who
            # holds case … now, ends this shift"); {region} is a region code.
            owner = current.name if current else _("the {region} owner").format(region=region)
            return [messages.not_your_shift(chat.case_number, owner)]
        refusal = await self._access.act(request, "shift_end", latest)
        if refusal is not None:
            return [refusal]
        successor = next_owner(chat, region, self._schedule.travel_order)
        if successor is None:
            return [messages.no_next_owner(chat.case_number)]
        now = self._clock.now()
        on_shift = self._schedule.current_shift(successor.region, now) is not None
        answers = HandoffAnswers(
            case=latest.case,
            owner_region=region,
            target_region=successor.region,
            kind_choice="between",
            reason="Shift end in the case's group chat: direct handoff to the next region's owner",
            notes=latest.notes.model_copy(update={"summary": summary[:4000]}),
            target_engineer=successor.aad_object_id,
            target_engineer_name=successor.name,
        )
        step = NextStep(
            kind=NextStepKind.REASSIGN,
            instruction=_handed_to(successor, on_shift),
            path=(PathStep.LONG_RUNNING_SHIFT_END, PathStep.DIRECT_TO_NEXT_OWNER),
        )
        outputs = compose_outputs(answers, step, self._queue)
        try:
            await self._service.request(answers, outputs, actor, chat_id)
        except DuplicateOpenHandoff:
            return [messages.shift_end_pending(chat.case_number)]
        self._wake_outbox()
        return [
            messages.shift_ending(
                actor.name, region, summary, successor.name, successor.region, on_shift
            )
        ]


def _members(members: Sequence[ChatMember]) -> str:
    """The people of a group chat, each with their region."""
    return formats.listing([f"{m.name} ({m.region})" for m in members])


def _handed_to(successor: ChatMember, on_shift: bool) -> str:
    """The next step of a shiftend's handoff, for the owner ending their shift."""
    if on_shift:
        return _(
            "Hand the case warm to {name} ({region}): they are on shift now, talk to them."
        ).format(name=successor.name, region=successor.region)
    return _("Hand the case directly to {name} ({region}).").format(
        name=successor.name, region=successor.region
    )


def _kept(entry: str, shown: object, proposals: Sequence[ChatMember]) -> ChatMember | None:
    """The proposed owner an entry stands for, if any: the one the card showed there, left as
    it was; or one named by their name or directory id (a card from before e-mails were
    shown held the id)."""
    by_id = {m.aad_object_id.lower(): m for m in proposals}
    if isinstance(shown, dict) and shown.get("shown") == entry:
        member = by_id.get(str(shown.get("id") or "").lower())
        if member is not None:
            return member
    wanted = entry.lower()
    return next((m for m in proposals if wanted in (m.aad_object_id.lower(), m.name.lower())), None)
