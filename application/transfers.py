"""Card buttons: Action.Execute invokes, their Action.Submit fallback, and the requester's
answer from their personal chat; and the refresh of the Case Transfer card, which gives each
reader Teams asks for their own copy (cards/user_views.py). Card data is untrusted and checked
before anything runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from application import messages
from application.clicks import click_key, pressed_before
from cards.elements import Json
from cards.transfer_card import handoff_card, offered_verbs, same_as_teams
from cards.user_views import REFRESH_VERB
from handoff.access import AccessPolicy, Viewer, log_refusal, meant_for_someone_else
from handoff.errors import ConcurrencyConflict, IllegalTransition, NotFound
from handoff.models import Handoff, HandoffState, Person
from handoff.ports import (
    AlreadyHandled,
    Clock,
    HandledKeys,
    HandoffRepository,
    UserSettingsStore,
)
from handoff.service import ActionOutcome, HandoffService
from handoff.state_machine import (
    Accept,
    Cancel,
    Command,
    EscalateToSme,
    ProvideInfo,
    RequestMoreInfo,
    SendBackToQueue,
    Verb,
    state_in_words,
)
from handoff.user_settings import UserSettings
from i18n import _, current, formats, speaking
from i18n.languages import ENGLISH

from .request import Reply, Request

log = logging.getLogger(__name__)

VERBS = frozenset(Verb)
# A refresh comes as an invoke only: a client without Universal Actions never refreshes.
INVOKE_VERBS = VERBS | {REFRESH_VERB}
_MAX_ID_LENGTH = 64
# The longest question, answer or reason a command takes (NonBlank in handoff/state_machine.py).
_MAX_TEXT_CHARS = 4000


def _gone() -> str:
    return _("That handoff no longer exists.")


@dataclass(frozen=True)
class CardAction:
    verb: str
    handoff_id: str
    version: int
    inputs: dict[str, Any]


def read_invoke(value: object) -> CardAction | str:
    """An `adaptiveCard/action` invoke's value: {"action": {"verb", "data"}, ...}."""
    action = value.get("action") if isinstance(value, dict) else None
    if not isinstance(action, dict):
        return _("That card action came without its data.")
    data = action.get("data")
    return _read(action.get("verb"), data if isinstance(data, dict) else {}, INVOKE_VERBS)


def read_submit(value: dict[str, Any]) -> CardAction | str:
    """An Action.Submit's value: the card's data with its inputs merged in."""
    return _read(value.get("verb"), value, VERBS)


def _read(verb: object, data: dict[str, Any], known: frozenset[str]) -> CardAction | str:
    if not isinstance(verb, str) or verb not in known:
        log.warning("card action with an unknown verb refused", extra={"verb": str(verb)[:40]})
        return _("I don't know that button. Use the buttons of the latest card.")
    handoff_id = data.get("handoff_id")
    if not isinstance(handoff_id, str) or not 0 < len(handoff_id) <= _MAX_ID_LENGTH:
        log.warning("card action without a valid handoff id refused", extra={"verb": verb})
        return _("That card does not name a handoff. Use the buttons of the latest card.")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        log.warning("card action with a forged version refused", extra={"verb": verb})
        return messages.forged_card()
    inputs = {k: v for k, v in data.items() if k not in {"verb", "handoff_id", "version"}}
    return CardAction(verb=verb, handoff_id=handoff_id, version=version, inputs=inputs)


def _text(inputs: dict[str, Any], key: str) -> str:
    value = inputs.get(key)
    return value.strip() if isinstance(value, str) else ""


def command_for(
    action: CardAction, actor: Person, is_lead: bool, instead_of: str | None = None
) -> Command | str:
    try:
        if action.verb == Verb.ACCEPT:
            return Accept(actor=actor, instead_of=instead_of)
        if action.verb == Verb.ESCALATE:
            return EscalateToSme(actor=actor)
        if action.verb == Verb.CANCEL:
            return Cancel(actor=actor)
        if action.verb == Verb.MORE_INFO:
            question = _text(action.inputs, "question")
            if not question:
                return _("Type your question in the box first, then press the button.")
            return RequestMoreInfo(actor=actor, question=question)
        if action.verb == Verb.BACK_TO_QUEUE:
            reason = _text(action.inputs, "reason")
            if not reason:
                return _("Say why the case goes back to the queue, then press the button.")
            return SendBackToQueue(actor=actor, reason=reason, actor_is_lead=is_lead)
        answer = _text(action.inputs, "answer")
        if not answer:
            return _("Type your answer first, then press the button.")
        return ProvideInfo(actor=actor, answer=answer)
    except ValidationError:
        return _("That text is too long: keep it under {count} characters.").format(
            count=formats.number(_MAX_TEXT_CHARS)
        )


@dataclass(frozen=True)
class ActionResult:
    """What the clicker gets: the refreshed card (or None) and what to say. `repeated`: the
    click was handled before, so nothing was done again and nothing more is said."""

    card: Json | None
    message: str
    repeated: bool = False
    done: bool = False
    """The action changed the handoff."""
    asks: bool = False
    """The card asks the clicker something first (take it instead of whom it is meant for?)."""


class Store(HandoffRepository, HandledKeys, UserSettingsStore, Protocol):
    pass


class CardActions:
    def __init__(
        self,
        service: HandoffService,
        store: Store,
        policy: AccessPolicy,
        clock: Clock,
        case_url_template: str | None = None,
        team_language: str = ENGLISH.code,
    ) -> None:
        self._case_url_template = case_url_template
        # The channel's card is in the team's language (case_transfer.language).
        self._team_language = team_language
        self._service = service
        self._store = store
        self._policy = policy
        self._clock = clock

    async def run(self, action: CardAction, request: Request) -> ActionResult:
        actor = request.actor
        key = click_key("card", request.message_id, actor, action.verb, action.version)
        try:
            # One read for all the click needs; an Accept's also brings the case's other
            # handoffs, which tell whether the case is now long-running (R-LONG).
            clicked = await self._store.clicked(
                action.handoff_id,
                request.message_id,
                key,
                actor.id,
                whole_case=action.verb == Verb.ACCEPT,
            )
        except NotFound:
            _log_forged("unknown handoff", action, actor)
            return ActionResult(card=None, message=_gone())
        handoff = clicked.handoff
        forged = _forged(action, handoff, request, clicked.card_of_message)
        if forged is not None:
            _log_forged(forged, action, actor)
            said = messages.button_not_on_card() if forged == "verb" else messages.forged_card()
            return ActionResult(card=None, message=said)
        # A click on an older version of the card may be this very click again (Teams
        # redelivers, people double-click): its key says. A click on the current version is
        # keyed once, as its change is saved (a twin in flight loses there).
        if action.version != handoff.version and clicked.pressed:
            return self._repeat(handoff, actor, request)
        refusal = await self._policy.may_act(action.verb, actor, handoff, request.member_of)
        if refusal is not None:
            # The card as it is, for a click on the card itself: whoever clicked sees it there
            # anyway. A click made up elsewhere (a forged invoke with a known id) gets words.
            on_the_card = bool(request.message_id) and clicked.card_of_message == handoff.id
            card = self._card(handoff, actor, request, refusal.said) if on_the_card else None
            return ActionResult(card=card, message=refusal.said)
        if action.verb == Verb.LONG_RUNNING:
            return await self._flag_long_running(action, actor, request, key)
        instead_of = self._meant_for(action, handoff, actor, request, clicked.actor_settings)
        if instead_of is not None and action.inputs.get("instead") is not True:
            # Allowed, but not meant for them: they confirm first, so nobody takes someone
            # else's handoff by a slip of the finger.
            notice = messages.take_instead(handoff.case.number, instead_of)
            card = handoff_card(
                handoff,
                notice=notice,
                instead_of=instead_of,
                now=self._clock.now(),
                case_url_template=self._case_url_template,
            )
            return ActionResult(card=card, message=notice, asks=True)
        command = command_for(action, actor, self._policy.is_lead(actor), instead_of)
        if isinstance(command, str):
            return ActionResult(card=None, message=command)
        try:
            outcome = await self._service.act(
                action.handoff_id,
                command,
                action.version,
                request.conversation.id,
                key,
                current=handoff,
                case=clicked.case or None,
                card=self._channel_card,
            )
        except NotFound:
            return ActionResult(card=None, message=_gone())
        if outcome.repeated:
            return self._repeat(outcome.handoff, actor, request)
        return ActionResult(
            card=self._card(outcome.handoff, actor, request, outcome.notice, outcome.card),
            message=_said(outcome),
            done=outcome.changed,
        )

    def _meant_for(
        self,
        action: CardAction,
        handoff: Handoff,
        actor: Person,
        request: Request,
        settings: UserSettings | None,
    ) -> str | None:
        """For an Accept: who the handoff is meant for, when that is not the clicker."""
        if action.verb != Verb.ACCEPT:
            return None
        return meant_for_someone_else(
            handoff,
            actor,
            is_lead=self._policy.is_lead(actor),
            actor_region=settings.region if settings else None,
            actor_addresses=request.addresses(),
        )

    async def refresh(self, action: CardAction, request: Request) -> ActionResult:
        """Teams asks for the caller's own copy of the Case Transfer card (a refresh): the
        current version, with the buttons the caller's role may press (AccessPolicy.own_view;
        everyone else, strangers too, gets the team's card they see in the channel). Answered
        within Teams' invoke time limit: one read, no call out (not even a membership look-up)
        and nothing written, so a refresh is never a click. Only the card's own message asks:
        a refresh from anywhere else would show the case where it is not posted."""
        actor = request.actor
        try:
            handoff, posted = await self._store.with_card(action.handoff_id)
        except NotFound:
            _log_forged("unknown handoff", action, actor)
            return ActionResult(card=None, message=_gone())
        if not 1 <= action.version <= handoff.version:
            _log_forged("version", action, actor)
            return ActionResult(card=None, message=messages.forged_card())
        if posted is None or not request.message_id or posted.activity_id != request.message_id:
            _log_forged("refresh not on the handoff's card", action, actor)
            return ActionResult(card=None, message=messages.forged_card())
        viewer = self._policy.own_view(actor, handoff, request.addresses())
        log.info(
            "card refreshed",
            extra={
                "handoff_id": handoff.id,
                "view": viewer.value,
                "version": action.version,
                "current_version": handoff.version,
            },
        )
        # The copy keeps refreshing for its reader when it has buttons of their own; the
        # team's copy waits for the next update of the message (or Refresh in its menu).
        users = [actor.id] if viewer is not Viewer.TEAM else []
        return ActionResult(
            card=handoff_card(handoff, viewer=viewer, refresh_users=users, now=self._clock.now()),
            message="",
        )

    def _channel_card(self, handoff: Handoff) -> Json:
        """The team's card of a change as the channel shows it (in the team's language, as of
        the change, without the refresh the outbox adds: application/outbox_steps/follow_ups.py)."""
        with speaking(self._team_language):
            return handoff_card(
                handoff, now=handoff.updated_at, case_url_template=self._case_url_template
            )

    def _card(
        self,
        handoff: Handoff,
        actor: Person,
        request: Request,
        notice: str | None = None,
        teams: Json | None = None,
    ) -> Json:
        """The refreshed card for the clicker, which Teams shows them alone: their own copy;
        the team's card of the change (`teams`) when that is what their copy shows, in the
        language they read."""
        viewer = self._policy.own_view(actor, handoff, request.addresses())
        if teams is not None and notice is None and same_as_teams(handoff, viewer):
            with speaking(self._team_language):
                teams_language = current()
            if current() == teams_language:
                return teams
        return handoff_card(
            handoff,
            notice=notice,
            viewer=viewer,
            now=self._clock.now(),
            case_url_template=self._case_url_template,
        )

    def _repeat(self, handoff: Handoff, actor: Person, request: Request) -> ActionResult:
        log.info("repeated card action answered with the current card", extra={"id": handoff.id})
        return ActionResult(card=self._card(handoff, actor, request), message="", repeated=True)

    async def _twin_won(self, changed: bool, key: str | None) -> bool:
        """A click that lost the race to an identical one (a redelivery in flight) is the
        same click, not someone else's."""
        return not changed and await pressed_before(self._store, key)

    async def _flag_long_running(
        self, action: CardAction, actor: Person, request: Request, key: str | None
    ) -> ActionResult:
        why = _text(action.inputs, "why")
        if not why:
            return ActionResult(card=None, message=_("Say why the case is long-running first."))
        try:
            flagged = await self._service.flag_long_running(
                action.handoff_id,
                actor,
                why[:300],
                request.conversation.id,
                key,
                seen_version=action.version,
            )
        except NotFound:
            return ActionResult(card=None, message=_gone())
        except IllegalTransition as refused:
            current = await self._store.get(action.handoff_id)
            return ActionResult(
                card=self._card(current, actor, request, str(refused)), message=str(refused)
            )
        except (AlreadyHandled, ConcurrencyConflict):
            current = await self._store.get(action.handoff_id)
            if await self._twin_won(False, key):
                return self._repeat(current, actor, request)
            return ActionResult(
                card=self._card(current, actor, request, messages.changed_meanwhile()),
                message=messages.changed_meanwhile(),
            )
        number = flagged.case.number
        return ActionResult(
            card=self._card(flagged, actor, request),
            message=_("Case {number} is marked long-running.").format(number=number),
        )


def _forged(
    action: CardAction, handoff: Handoff, request: Request, card_of_message: str | None
) -> str | None:
    """What gives the card data away as made up, if anything: a version the handoff never
    had, a button its current card does not show, or the card of another handoff."""
    if not 1 <= action.version <= handoff.version:
        return "version"
    if action.version == handoff.version and action.verb not in offered_verbs(handoff):
        return "verb"
    if request.message_id and card_of_message not in (None, handoff.id):
        return "handoff id of another card"
    return None


def _log_forged(what: str, action: CardAction, actor: Person) -> None:
    log_refusal(
        "card action with forged data refused",
        what,
        action.verb,
        actor,
        handoff_id=action.handoff_id,
    )


def _said(outcome: ActionOutcome) -> str:
    if outcome.notice:
        return outcome.notice
    return _("Done: case {number} is {state} now.").format(
        number=outcome.handoff.case.number, state=state_in_words(outcome.handoff.state)
    )


class TypedAnswers:
    """A requester's words typed in their personal chat while one of their handoffs waits for
    their answer to a question: taken as that answer, as the question's message says."""

    def __init__(self, store: HandoffRepository, actions: CardActions) -> None:
        self._store = store
        self._actions = actions

    async def answer(self, request: Request, text: str) -> Reply | None:
        """What to tell the person; None when no question waits (the words are something
        else: an unknown command)."""
        if not request.conversation.personal:
            return None
        actor = request.actor
        waiting = [
            h
            for h in await self._store.involving(actor.id, limit=25)
            if h.state is HandoffState.MORE_INFO_NEEDED
            and h.open_question
            and h.requester.id == actor.id
        ]
        if len(waiting) > 1:
            return [messages.which_question([h.case.number for h in waiting])]
        if not waiting:
            return None
        [handoff] = waiting
        answer = CardAction(
            verb=Verb.PROVIDE_INFO,
            handoff_id=handoff.id,
            version=handoff.version,
            inputs={"answer": text.strip()},
        )
        result = await self._actions.run(answer, request)
        if result.done:
            return [messages.answer_recorded(handoff.case.number, handoff.open_question or "")]
        return [result.message]
