"""The Teams activity handler: routes messages, @mentions, dialogs and install events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botbuilder.core import (
    ConversationState,
    InvokeResponse,
    MessageFactory,
    TurnContext,
    UserState,
)
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import DialogContext, DialogSet
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from botbuilder.schema.teams import TeamInfo

from application import messages
from application.access import TurnAccess
from application.commands import ParsedCommand, is_exact_command, is_read_only, parse_command
from application.escalations import Escalations
from application.out_of_office import OofFlow
from application.transfers import (
    ActionResult,
    CardAction,
    CardActions,
    Click,
    invoke_body,
    invoke_body_text,
    read_invoke,
    read_submit,
)
from cards.elements import Json
from cards.oof_card import OOF_FORM
from cards.restart_card import KEEP, RESTART_FORM, restart_card
from dialogs.form_flow import (
    DIALOG_WORDS,
    Answers,
    answers_in_progress,
    client_timezone,
    step_in_progress,
)
from dialogs.handoff_dialog import HANDOFF_DIALOG, TEXT_STEPS
from dialogs.handoff_draft import (
    SAVED_SETTINGS,
    SEES_EVERY_CASE,
    case_number_from,
    lookup_case,
    saved_settings_answer,
)
from handoff.escalation import DECISIONS
from handoff.models import HandoffState, Person
from handoff.ports import (
    Clock,
    ConversationKind,
    ConversationStore,
    HandoffRepository,
    UserSettingsStore,
)
from teams.card_messages import card_activity
from teams.conversations import (
    StoredAddresses,
    actor_of,
    address_key,
    address_of,
    conversation_kind,
    tenant_of,
)
from teams.deliveries import NO_CLAIM, Deliveries

log = logging.getLogger(__name__)

CommandHandler = Callable[[TurnContext, ParsedCommand], Awaitable[None]]
ADAPTIVE_CARD_ACTION = "adaptiveCard/action"


class HandoffBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(
        self,
        conversations: ConversationStore,
        repository: HandoffRepository,
        user_settings: UserSettingsStore,
        conversation_state: ConversationState,
        user_state: UserState,
        dialogs: DialogSet,
        clock: Clock,
        card_actions: CardActions,
        commands: Mapping[str, CommandHandler],
        wake_outbox: Callable[[], None],
        access: TurnAccess,
        group_chat_joined: Callable[[str], Awaitable[None]] | None = None,
        card_forms: Mapping[str, Callable[[TurnContext, dict[str, Any]], Awaitable[None]]]
        | None = None,
        escalations: Escalations | None = None,
        oof: OofFlow | None = None,
        deliveries: Deliveries | None = None,
        tenant_id: str = "",
    ) -> None:
        super().__init__()
        self._deliveries = deliveries
        self._access = access
        self._tenant_id = tenant_id
        self._conversations = conversations
        self._repository = repository
        self._user_settings = user_settings
        self._conversation_state = conversation_state
        self._user_state = user_state
        self._dialogs = dialogs
        self._clock = clock
        self._card_actions = card_actions
        self._commands: dict[str, CommandHandler] = {**commands, "help": self._help}
        self._wake_outbox = wake_outbox
        self._group_chat_joined = group_chat_joined
        self._card_forms = dict(card_forms or {})
        self._escalations = escalations
        self._stored = StoredAddresses()
        if escalations is not None:
            self._commands["escalate"] = escalations.command
        if oof is not None:
            self._commands["oof"] = oof.command
            self._card_forms[OOF_FORM] = oof.submitted
        self._card_forms[RESTART_FORM] = self._restart_answered

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        # Tenant ids are GUIDs: compared without regard to letter case (settings lower it).
        if self._tenant_id and (tenant_of(activity) or "").lower() != self._tenant_id:
            await self._refuse_other_tenant(turn_context)
            return
        deliveries = self._deliveries
        claim = await deliveries.claim(activity) if deliveries else NO_CLAIM
        if claim is None:
            return  # a repeat of a delivery already handled (or being handled)
        try:
            await super().on_turn(turn_context)
            await self._conversation_state.save_changes(turn_context)
            await self._user_state.save_changes(turn_context)
        except asyncio.CancelledError:
            # The request deadline (teams/endpoint.py) cut the turn short and answered 503: the
            # redelivery Teams sends then must be handled, not taken for a repeat.
            if deliveries is not None:
                deliveries.abandon(claim)
            raise
        except Exception:
            # The work did not finish: Teams' redelivery (or the person's retry) may do it.
            if deliveries is not None:
                await deliveries.release(claim)
            raise
        # Outside the try: the work is done, so a finish the deadline cuts short leaves the
        # claim pending (a repeat until the bound) rather than released (done twice).
        if deliveries is not None:
            await deliveries.finish(claim)
        # A turn may have stored work for the outbox (a card to post, a person to tell).
        self._wake_outbox()

    async def _refuse_other_tenant(self, turn_context: TurnContext) -> None:
        """Nothing is stored for another organization's activity; it is told so and logged."""
        activity = turn_context.activity
        log.warning(
            "activity from another tenant refused",
            extra={
                "tenant_id": tenant_of(activity),
                "activity_type": activity.type,
                "activity_id": activity.id,
            },
        )
        if activity.type == ActivityTypes.message:
            await turn_context.send_activity(messages.OTHER_TENANT)
        elif activity.type == ActivityTypes.invoke:
            body = invoke_body_text(messages.OTHER_TENANT)
            await turn_context.send_activity(
                Activity(
                    type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body)
                )
            )

    def _click(self, turn_context: TurnContext) -> Click:
        activity = turn_context.activity
        return Click(
            conversation_id=activity.conversation.id,
            message_id=activity.reply_to_id,
            member_of=self._access.member_of(turn_context),
            personal=conversation_kind(activity) is ConversationKind.PERSONAL,
            addresses=lambda: self._access.membership.addresses(self._actor(turn_context)),
        )

    def _actor(self, turn_context: TurnContext) -> Person:
        return actor_of(turn_context.activity)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        name = turn_context.activity.name
        if name != ADAPTIVE_CARD_ACTION:
            # The bot answers no other invoke (no message extension, task module, tab or
            # sign-in); the SDK's handlers for them would only fail on the value's shape.
            log.warning("invoke not handled", extra={"invoke_name": str(name)[:80]})
            return InvokeResponse(
                status=501, body={"error": f"This bot does not handle {str(name)[:80]!r}."}
            )
        # Answered here rather than in on_adaptive_card_invoke, whose response CloudAdapter
        # serializes twice into an HTTP 500 (design.md, known platform traps).
        decision = self._escalation_decision(turn_context)
        if decision is not None:
            card, said = await decision
            body = invoke_body(ActionResult(card=card, message=said))
            return InvokeResponse(status=200, body=body)
        action = read_invoke(turn_context.activity.value)
        if isinstance(action, str):
            return InvokeResponse(status=200, body=invoke_body_text(action))
        result = await self._card_actions.run(
            action, self._actor(turn_context), self._click(turn_context)
        )
        return InvokeResponse(status=200, body=invoke_body(result))

    def _escalation_decision(
        self, turn_context: TurnContext
    ) -> Awaitable[tuple[Json | None, str]] | None:
        """A Team Leader's button on an approval card: the invoke's value, or the Action.Submit
        fallback's; None when the value is something else."""
        value = turn_context.activity.value
        if self._escalations is None or not isinstance(value, dict):
            return None
        action = value.get("action")
        invoked = isinstance(action, dict)
        verb = action.get("verb") if isinstance(action, dict) else value.get("verb")
        if not isinstance(verb, str) or verb not in DECISIONS:
            return None
        data = action.get("data") if isinstance(action, dict) else value
        data = data if isinstance(data, dict) else {}
        escalation_id, version, comment = (
            data.get("escalation_id"),
            data.get("version"),
            data.get("comment"),
        )
        log.info("escalation decision", extra={"verb": verb, "invoke": invoked})
        return self._escalations.decide(
            verb,
            escalation_id if isinstance(escalation_id, str) else "",
            version if isinstance(version, int) and not isinstance(version, bool) else None,
            comment if isinstance(comment, str) else "",
            self._actor(turn_context),
            turn_context.activity.reply_to_id,
        )

    async def _card_submit(self, turn_context: TurnContext, value: dict[str, object]) -> None:
        """Action.Submit: the fallback of a card button, or an answer from a personal chat."""
        action = read_submit(value)
        if isinstance(action, str):
            await turn_context.send_activity(action)
            return
        result = await self._card_actions.run(
            action, self._actor(turn_context), self._click(turn_context)
        )
        if result.asks and result.card is not None:
            # The card carries the question's button (take it instead?): without Universal
            # Actions it is not refreshed in place, so it comes as a message of its own.
            await turn_context.send_activity(card_activity(result.card))
        elif not result.repeated:
            await turn_context.send_activity(result.message)

    async def _remember_conversation(self, turn_context: TurnContext) -> None:
        activity, now = turn_context.activity, self._clock.now()
        key = address_key(activity)
        if self._stored.is_news(key, now):
            address = address_of(activity, now)
            await self._conversations.save_conversation(address)
            self._stored.stored(key, now)
            log.info(
                "conversation stored",
                extra={"conversation_id": address.conversation_id, "kind": address.kind.value},
            )
        kind = conversation_kind(activity)
        if kind is ConversationKind.GROUP_CHAT and self._group_chat_joined is not None:
            await self._group_chat_joined(activity.conversation.id)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self._remember_conversation(turn_context)
        value = turn_context.activity.value
        decision = self._escalation_decision(turn_context)
        if decision is not None:
            _card, said = await decision
            if said:  # empty for a repeated click
                await turn_context.send_activity(said)
            return
        if isinstance(value, dict) and "verb" in value:
            await self._card_submit(turn_context, value)
            return
        form = self._card_forms.get(str(value.get("command"))) if isinstance(value, dict) else None
        if form is not None and isinstance(value, dict):
            await form(turn_context, value)
            return
        if turn_context.activity.text:
            # The SDK runs re.sub on the text: a mention with no text (an attachment only)
            # would fail the turn.
            TurnContext.remove_recipient_mention(turn_context.activity)
        command = parse_command(turn_context.activity.text)
        dc = await self._dialogs.create_context(turn_context)
        if self._may_be_an_answer(dc, command) and await self._typed_answer(turn_context):
            if dc.active_dialog is not None:
                await turn_context.send_activity(messages.IN_A_HANDOFF)
            return
        # Mid-handoff, only the bare command restarts: "Handoff notes for US: …" is a paste.
        is_restart = len(command.args) <= 1 and (
            not command.args or case_number_from(command.args[0]) is not None
        )
        if command.name == "handoff" and (dc.active_dialog is None or is_restart):
            await self._start_handoff(dc, command)
            return
        if dc.active_dialog is not None and is_read_only(command, turn_context.activity.text):
            # Answered on the side: the dialog stays where it was, its card still the last.
            await self._commands[command.name](turn_context, command)
            await turn_context.send_activity(messages.IN_A_HANDOFF)
            return
        if dc.active_dialog is not None:
            await dc.continue_dialog()
            return
        if turn_context.activity.value is not None and not command.name:
            await turn_context.send_activity(messages.STALE_FORM)
            return
        if not command.name:
            await turn_context.send_activity(messages.empty_message())
            return
        handler = self._commands.get(command.name)
        if handler is None:
            await turn_context.send_activity(messages.unknown_command(command.name))
            return
        await handler(turn_context, command)

    @staticmethod
    def _may_be_an_answer(dc: DialogContext, command: ParsedCommand) -> bool:
        """Whether typed words may answer a question waiting for the sender: not a command
        written as one, not back/cancel of a dialog, not what the dialog's step reads from
        text (a case number, pasted notes)."""
        activity = dc.context.activity
        text = (activity.text or "").strip()
        if activity.value is not None or not text or text.lower() in DIALOG_WORDS:
            return False
        if is_exact_command(command, text):
            return False
        return step_in_progress(dc) not in TEXT_STEPS

    async def _typed_answer(self, turn_context: TurnContext) -> bool:
        """A requester's words typed in their personal chat while one of their handoffs waits
        for their answer to a question: taken as that answer, as the question's message says.
        False when no question waits (the words are an unknown command)."""
        activity = turn_context.activity
        if conversation_kind(activity) is not ConversationKind.PERSONAL:
            return False
        actor = self._actor(turn_context)
        waiting = [
            h
            for h in await self._repository.involving(actor.id, limit=25)
            if h.state is HandoffState.MORE_INFO_NEEDED
            and h.open_question
            and h.requester.id == actor.id
        ]
        if len(waiting) > 1:
            await turn_context.send_activity(
                messages.which_question([h.case.number for h in waiting])
            )
            return True
        if not waiting:
            return False
        [handoff] = waiting
        answer = CardAction(
            verb="provide_info",
            handoff_id=handoff.id,
            version=handoff.version,
            inputs={"answer": (activity.text or "").strip()},
        )
        result = await self._card_actions.run(answer, actor, self._click(turn_context))
        said = (
            messages.answer_recorded(handoff.case.number, handoff.open_question or "")
            if result.done
            else result.message
        )
        await turn_context.send_activity(said)
        return True

    async def _help(self, turn_context: TurnContext, _command: ParsedCommand) -> None:
        await turn_context.send_activity(MessageFactory.text(messages.HELP))

    async def _start_handoff(self, dc: DialogContext, command: ParsedCommand) -> None:
        activity = dc.context.activity
        if conversation_kind(activity) is not ConversationKind.PERSONAL:
            await dc.context.send_activity(messages.HANDOFF_IN_PERSONAL_CHAT)
            return
        # Asked before the case is looked up: its open handoff is shown to whoever may update it.
        refusal = await self._access.request(dc.context)
        if refusal is not None:
            await dc.context.send_activity(refusal)
            return
        actor = self._actor(dc.context)
        options: Answers = {
            "reader_zone": client_timezone(activity),
            SEES_EVERY_CASE: await self._access.sees_every_case(dc.context),
            SAVED_SETTINGS: saved_settings_answer(
                await self._user_settings.user_settings(actor.id)
            ),
        }
        if command.args:
            number = case_number_from("".join(command.args))
            if number is None:
                await dc.context.send_activity(messages.not_a_case_number(" ".join(command.args)))
                return
            found = await lookup_case(self._repository, number, options, actor)
            if isinstance(found, str):
                await dc.context.send_activity(found)
                return
            options.update(found)
        if dc.active_dialog is not None:
            in_progress = answers_in_progress(dc).get("case_number")
            new_case = str(options.get("case_number") or "") or None
            if new_case is not None and new_case == in_progress:
                await dc.context.send_activity(messages.already_handing_off(new_case))
                await dc.reprompt_dialog()
                return
            # Answers given so far are not dropped without asking.
            await dc.context.send_activity(card_activity(restart_card(in_progress, new_case)))
            return
        await dc.begin_dialog(HANDOFF_DIALOG, options)

    async def _restart_answered(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        """The keep-or-drop card: carry on with the draft, or drop it for the new handoff."""
        dc = await self._dialogs.create_context(turn_context)
        if dc.active_dialog is not None:
            draft = str(answers_in_progress(dc).get("case_number") or "")
            if value.get("choice") == KEEP or draft != str(value.get("draft") or ""):
                # Keep; or the card is about a draft that is gone: the one now in progress
                # is not dropped by it.
                if value.get("choice") != KEEP:
                    await turn_context.send_activity(messages.RESTART_CARD_OUTDATED)
                await dc.reprompt_dialog()
                return
            await dc.cancel_all_dialogs()
            await turn_context.send_activity(messages.HANDOFF_RESTARTED)
        elif value.get("choice") == KEEP:
            await turn_context.send_activity(messages.STALE_FORM)
            return
        case = str(value.get("case") or "")
        await self._start_handoff(dc, ParsedCommand("handoff", (case,) if case else (), case))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._remember_conversation(turn_context)

    async def on_teams_members_added(
        self,
        teams_members_added: list[ChannelAccount],
        team_info: TeamInfo,
        turn_context: TurnContext,
    ) -> None:
        bot_id = turn_context.activity.recipient.id
        if not any(member.id == bot_id for member in teams_members_added):
            return
        await self._remember_conversation(turn_context)
        kind = conversation_kind(turn_context.activity)
        welcome = {
            ConversationKind.PERSONAL: messages.WELCOME,
            ConversationKind.GROUP_CHAT: messages.GROUP_CHAT_WELCOME,
        }.get(kind, messages.TEAM_WELCOME)
        await turn_context.send_activity(MessageFactory.text(welcome))
