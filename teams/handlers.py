"""The Teams activity handlers: each turns an activity into a Request, routes it (the
application's router, the card actions, the escalation decisions, the handoff dialog) and sends
what comes back. Who may do what is the use cases' to decide; the turn's cross-cutting steps
are middleware (teams/middleware.py)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botbuilder.core import ConversationState, InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.dialogs import DialogContext, DialogSet
from botbuilder.schema import ChannelAccount
from botbuilder.schema.teams import TeamInfo

from application import messages
from application.access import RequestAccess
from application.compose.hand_off import (
    HandoffDraft,
    finish_the_open_one_first,
    started_from_message,
)
from application.escalations import Escalations
from application.insights import Consent
from application.request import Card, Request
from application.router import (
    ParsedCommand,
    Router,
    parse_command,
    read_only,
    written_exactly,
)
from application.team_membership import TeamMembership
from application.transfers import ActionResult, CardActions, TypedAnswers, read_invoke, read_submit
from cards.elements import Json
from cards.restart_card import KEEP, RESTART_FORM, restart_card
from cards.user_views import REFRESH_VERB
from dialogs.form_flow import DIALOG_WORDS, Answers, answers_in_progress, step_in_progress
from dialogs.handoff_dialog import HANDOFF_DIALOG, TEXT_STEPS
from dialogs.handoff_draft import (
    OPENED_BY,
    PASTED_MESSAGE,
    SAVED_SETTINGS,
    SEES_EVERY_CASE,
    lookup_case,
    saved_settings_answer,
)
from handoff.escalation import DECISIONS
from handoff.models import case_number_from
from handoff.ports import ConversationKind, HandoffRepository, UserSettingsStore

from .activities import (
    card_activity,
    conversation_kind,
    invoke_body,
    invoke_body_text,
    invoke_response,
    request_of,
    send_reply,
)
from .compose_handlers import COMPOSE_INVOKES, ComposeHandlers
from .middleware import DialogStateAhead

log = logging.getLogger(__name__)

ADAPTIVE_CARD_ACTION = "adaptiveCard/action"
FILE_CONSENT = "fileConsent/invoke"

FileConsent = Callable[[Request, Mapping[str, object]], Awaitable[Consent]]


class HandoffBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(
        self,
        *,
        router: Router,
        card_actions: CardActions,
        typed_answers: TypedAnswers,
        escalations: Escalations,
        access: RequestAccess,
        membership: TeamMembership,
        file_consent: FileConsent,
        repository: HandoffRepository,
        user_settings: UserSettingsStore,
        conversation_state: ConversationState,
        dialog_state: DialogStateAhead,
        dialogs: DialogSet,
        compose: ComposeHandlers,
    ) -> None:
        super().__init__()
        self._compose = compose
        self._router = router
        self._card_actions = card_actions
        self._typed_answers = typed_answers
        self._escalations = escalations
        self._access = access
        self._membership = membership
        self._file_consent = file_consent
        self._repository = repository
        self._user_settings = user_settings
        self._conversation_state = conversation_state
        self._dialog_state = dialog_state
        self._dialogs = dialogs

    async def on_turn(self, turn_context: TurnContext) -> None:
        await super().on_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)

    def _request(self, turn_context: TurnContext, args: tuple[str, ...] = ()) -> Request:
        return request_of(turn_context, self._membership, args)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        name = turn_context.activity.name
        if name == FILE_CONSENT:
            await self._consent(turn_context)
            return invoke_response()
        if isinstance(name, str) and name in COMPOSE_INVOKES:
            return await self._compose.answer(turn_context)
        if name != ADAPTIVE_CARD_ACTION:
            # The bot answers no other invoke (no task module of its own, tab or sign-in);
            # the SDK's handlers for them would only fail on the value's shape.
            log.warning("invoke not handled", extra={"invoke_name": str(name)[:80]})
            return invoke_response(
                {"error": f"This bot does not handle {str(name)[:80]!r}."}, status=501
            )
        # Answered here rather than in on_adaptive_card_invoke, whose response CloudAdapter
        # serializes twice into an HTTP 500 (design.md, known platform traps).
        decision = await self._escalation_decision(turn_context)
        if decision is not None:
            card, said = decision
            return invoke_response(invoke_body(ActionResult(card, said)))
        action = read_invoke(turn_context.activity.value)
        if isinstance(action, str):
            return invoke_response(invoke_body_text(action))
        if action.verb == REFRESH_VERB:
            # Teams asks for the caller's own copy of the card: read only, and fast.
            result = await self._card_actions.refresh(action, self._request(turn_context))
        else:
            result = await self._card_actions.run(action, self._request(turn_context))
        return invoke_response(invoke_body(result))

    async def _consent(self, turn_context: TurnContext) -> None:
        """A file offer answered: the use case uploads (or not) and says so; the offer goes
        once dealt with, so it cannot be accepted twice."""
        value = turn_context.activity.value
        consent = await self._file_consent(
            self._request(turn_context), value if isinstance(value, dict) else {}
        )
        await send_reply(turn_context, consent.reply)
        offer = turn_context.activity.reply_to_id
        if consent.offer_done and offer:
            try:
                await turn_context.delete_activity(offer)
            except Exception as error:  # a card left in place is harmless; the file is sent
                log.warning("file offer not deleted", extra={"error": repr(error)[:200]})

    async def _escalation_decision(
        self, turn_context: TurnContext
    ) -> tuple[Json | None, str] | None:
        """A Team Leader's button on an approval card: the invoke's value, or the Action.Submit
        fallback's; None when the value is something else."""
        value = turn_context.activity.value
        if not isinstance(value, dict):
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
        request = self._request(turn_context)
        return await self._escalations.decide(
            verb,
            escalation_id if isinstance(escalation_id, str) else "",
            version if isinstance(version, int) and not isinstance(version, bool) else None,
            comment if isinstance(comment, str) else "",
            request.actor,
            request.message_id,
        )

    async def _card_submit(self, turn_context: TurnContext, value: dict[str, object]) -> None:
        """Action.Submit: the fallback of a card button, or an answer from a personal chat."""
        action = read_submit(value)
        if isinstance(action, str):
            await turn_context.send_activity(action)
            return
        result = await self._card_actions.run(action, self._request(turn_context))
        if result.asks and result.card is not None:
            # The card carries the question's button (take it instead?): without Universal
            # Actions it is not refreshed in place, so it comes as a message of its own.
            await turn_context.send_activity(card_activity(result.card))
        elif not result.repeated:
            await turn_context.send_activity(result.message)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        value = activity.value
        decision = await self._escalation_decision(turn_context)
        if decision is not None:
            _card, said = decision
            if said:  # empty for a repeated click
                await turn_context.send_activity(said)
            return
        if isinstance(value, dict) and "verb" in value:
            await self._card_submit(turn_context, value)
            return
        if isinstance(value, dict) and self._is_form(value.get("command")):
            await self._form(turn_context, value)
            return
        if activity.text:
            # The SDK runs re.sub on the text: a mention with no text (an attachment only)
            # would fail the turn.
            TurnContext.remove_recipient_mention(activity)
        command = parse_command(activity.text)
        # The state is loaded only when a dialog may be in progress or begins.
        dc = None
        if command.name == "handoff" or not self._dialog_state.none_open(turn_context):
            dc = await self._dialogs.create_context(turn_context)
        in_dialog = dc is not None and dc.active_dialog is not None
        if self._may_be_an_answer(turn_context, dc, command):
            answered = await self._typed_answers.answer(
                self._request(turn_context), (activity.text or "")
            )
            if answered is not None:
                if in_dialog:
                    answered.append(messages.in_a_handoff())
                await send_reply(turn_context, answered)
                return
        # Mid-handoff, only the bare command restarts: "Handoff notes for US: …" is a paste.
        is_restart = len(command.args) <= 1 and (
            not command.args or case_number_from(command.args[0]) is not None
        )
        if dc is not None and command.name == "handoff" and (not in_dialog or is_restart):
            await self._start_handoff(dc, command)
            return
        use_case = self._router.command(command.name)
        if in_dialog and read_only(command.name, command.args, activity.text):
            # Answered on the side: the dialog stays where it was, its card still the last.
            reply = await use_case(self._request(turn_context, command.args)) if use_case else []
            await send_reply(turn_context, [*reply, messages.in_a_handoff()])
            return
        if dc is not None and in_dialog:
            await dc.continue_dialog()
            return
        if value is not None and not command.name:
            await turn_context.send_activity(messages.stale_form())
            return
        if not command.name:
            await turn_context.send_activity(messages.empty_message())
            return
        if use_case is None:
            await turn_context.send_activity(messages.unknown_command(command.name))
            return
        await send_reply(turn_context, await use_case(self._request(turn_context, command.args)))

    def _is_form(self, name: object) -> bool:
        return name == RESTART_FORM or self._router.form(name) is not None

    async def _form(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        """A card that comes back with a `command`: the restart card is the dialog's, any
        other a use case's."""
        name = value.get("command")
        form = self._router.form(name)
        if form is None:
            await self._restart_answered(turn_context, value)
            return
        await send_reply(turn_context, await form(self._request(turn_context), value))

    @staticmethod
    def _may_be_an_answer(
        turn_context: TurnContext, dc: DialogContext | None, command: ParsedCommand
    ) -> bool:
        """Whether typed words may answer a question waiting for the sender: not a command
        written as one, not back/cancel of a dialog, not what the dialog's step reads from
        text (a case number, pasted notes)."""
        activity = turn_context.activity
        text = (activity.text or "").strip()
        if activity.value is not None or not text or text.lower() in DIALOG_WORDS:
            return False
        if written_exactly(command.name, command.args, text):
            return False
        return (step_in_progress(dc) if dc is not None else None) not in TEXT_STEPS

    async def open_handoff(self, turn_context: TurnContext, draft: HandoffDraft) -> None:
        """A handoff started from a message in the compose box, begun in the person's personal
        chat by the outbox (a turn of the bot's own there): the case and the message's notes
        filled in, the rest as `handoff` asks it."""
        dc = await self._dialogs.create_context(turn_context)
        if dc.active_dialog is not None:
            in_progress = answers_in_progress(dc)
            if draft.key and in_progress.get(OPENED_BY) == draft.key:
                return  # begun by an earlier attempt of this very outbox item
            # Not dropped unasked, as `handoff` would not; and no card to keep the message.
            case = in_progress.get("case_number")
            await turn_context.send_activity(finish_the_open_one_first(case))
            return
        prefill: Answers = {PASTED_MESSAGE: draft.text, OPENED_BY: draft.key}
        if draft.zone:
            prefill["reader_zone"] = draft.zone
        args = (draft.case,) if draft.case else ()
        command = ParsedCommand("handoff", args, " ".join(("handoff", *args)))
        await self._start_handoff(dc, command, prefill, started_from_message(draft.case))
        await self._conversation_state.save_changes(turn_context)

    async def _start_handoff(
        self,
        dc: DialogContext,
        command: ParsedCommand,
        prefill: Answers | None = None,
        intro: str | None = None,
    ) -> None:
        activity = dc.context.activity
        if conversation_kind(activity) is not ConversationKind.PERSONAL:
            await dc.context.send_activity(messages.handoff_in_personal_chat())
            return
        request = self._request(dc.context)
        # Asked before the case is looked up: its open handoff is shown to whoever may update it.
        refusal = await self._access.request(request)
        if refusal is not None:
            await dc.context.send_activity(refusal)
            return
        options: Answers = {
            "reader_zone": request.client_zone,
            SEES_EVERY_CASE: await self._access.sees_every_case(request),
            SAVED_SETTINGS: saved_settings_answer(
                await self._user_settings.user_settings(request.actor.id)
            ),
            **(prefill or {}),
        }
        if command.args:
            number = case_number_from("".join(command.args))
            if number is None:
                await dc.context.send_activity(messages.not_a_case_number(" ".join(command.args)))
                return
            found = await lookup_case(self._repository, number, options, request.actor)
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
            await send_reply(dc.context, [Card(restart_card(in_progress, new_case))])
            return
        if intro:
            await dc.context.send_activity(intro)
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
                    await turn_context.send_activity(messages.restart_card_outdated())
                await dc.reprompt_dialog()
                return
            await dc.cancel_all_dialogs()
            await turn_context.send_activity(messages.handoff_restarted())
        elif value.get("choice") == KEEP:
            await turn_context.send_activity(messages.stale_form())
            return
        case = str(value.get("case") or "")
        await self._start_handoff(dc, ParsedCommand("handoff", (case,) if case else (), case))

    async def on_teams_members_added(
        self,
        teams_members_added: list[ChannelAccount],
        team_info: TeamInfo,
        turn_context: TurnContext,
    ) -> None:
        bot_id = turn_context.activity.recipient.id
        if not any(member.id == bot_id for member in teams_members_added):
            return
        kind = conversation_kind(turn_context.activity)
        welcome = {
            ConversationKind.PERSONAL: messages.welcome(),
            ConversationKind.GROUP_CHAT: messages.group_chat_welcome(),
        }.get(kind, messages.team_welcome())
        await turn_context.send_activity(welcome)
