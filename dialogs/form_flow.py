"""A conversation as data: named steps asked in order, with `back`, `cancel`, and answers
kept in dialog state (stored in the database, so a bot restart loses nothing)."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import StatePropertyAccessor, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogSet, DialogTurnResult

from application.request import Said
from handoff.models import Person
from i18n import _
from teams.activities import client_timezone, message_of

log = logging.getLogger(__name__)

Answers = dict[str, Any]
CANCEL_WORDS = frozenset({"cancel", "stop", "quit", "exit"})
BACK_WORDS = frozenset({"back", "previous"})
DIALOG_WORDS = CANCEL_WORDS | BACK_WORDS


@dataclass(frozen=True)
class Reply:
    """What the user sent: typed text, or a card's submitted values."""

    text: str
    value: dict[str, Any] | None
    user: Person
    timezone: str | None = None

    @property
    def action(self) -> str:
        if self.value is not None:
            return str(self.value.get("action") or "next")
        word = self.text.strip().lower()
        if word in CANCEL_WORDS:
            return "cancel"
        if word in BACK_WORDS:
            return "back"
        return "next"

    @property
    def form(self) -> str | None:
        return str(self.value["form"]) if self.value and "form" in self.value else None


@dataclass(frozen=True)
class Advance:
    updates: Answers = field(default_factory=dict)
    # Said before the next question: what the answer implies (a downgrade hint, say).
    notices: tuple[str, ...] = ()
    # The answer changes what the earlier answers were about (another case number): start
    # over from `updates` instead of adding to what was there.
    restart: bool = False


class FormOutdated(Exception):
    """The stored answers no longer fit the form (a bot update changed it)."""


@dataclass(frozen=True)
class Retry:
    problems: tuple[str, ...]
    # What the user entered, kept so the form comes back filled in.
    updates: Answers = field(default_factory=dict)


@dataclass(frozen=True)
class Finish:
    messages: tuple[Said, ...]


Outcome = Advance | Retry | Finish


class Step(ABC):
    name: str

    def applies(self, answers: Answers) -> bool:
        return True

    def askable(self, answers: Answers) -> bool:
        """Whether the question can still be asked (going back to it, or asking it again):
        time may have made it moot, e.g. a meeting that has passed."""
        return True

    @abstractmethod
    async def ask(self, answers: Answers, problems: Sequence[str]) -> list[Said]:
        """The messages that ask this step's question."""

    @abstractmethod
    async def receive(self, answers: Answers, reply: Reply) -> Outcome:
        """Reads the answer: move on, ask again saying what to fix, or finish the dialog."""


class FormDialog(Dialog):  # type: ignore[misc]
    """Runs `steps` in order, skipping those that do not apply to the answers so far."""

    def __init__(
        self,
        dialog_id: str,
        steps: Sequence[Step],
        *,
        cancelled_text: str,
        stale_text: str,
        outdated_text: str,
        carried: Sequence[str] = ("reader_zone",),
    ) -> None:
        """The three texts are marked with N_ and said in the turn's language."""
        super().__init__(dialog_id)
        self._carried = frozenset(carried)
        self._steps = list(steps)
        self._by_name = {step.name: step for step in steps}
        self._cancelled_text = cancelled_text
        self._stale_text = stale_text
        self._outdated_text = outdated_text

    def _next_after(self, name: str | None, answers: Answers) -> Step | None:
        start = 0 if name is None else [s.name for s in self._steps].index(name) + 1
        return next((s for s in self._steps[start:] if s.applies(answers)), None)

    async def _ask(self, dc: DialogContext, step: Step, state: dict[str, Any]) -> None:
        state["step"] = step.name
        messages = await step.ask(state["answers"], state.get("problems", []))
        await dc.context.send_activities([message_of(m) for m in messages])

    async def begin_dialog(self, dc: DialogContext, options: object = None) -> DialogTurnResult:
        answers: Answers = dict(options) if isinstance(options, dict) else {}
        state = dc.active_dialog.state
        state.update({"answers": answers, "history": [], "step": None, "problems": []})
        first = self._next_after(None, answers)
        if first is None:
            return await dc.end_dialog(answers)
        await self._ask(dc, first, state)
        return Dialog.end_of_turn

    async def continue_dialog(self, dc: DialogContext) -> DialogTurnResult:
        state = dc.active_dialog.state
        reply = reply_from(dc)
        if reply.action == "cancel":
            await dc.context.send_activity(_(self._cancelled_text))
            return await dc.end_dialog(None)
        try:
            return await self._continue(dc, state, reply)
        except (FormOutdated, KeyError, TypeError) as error:
            # Answers stored by an older release of the form: say so rather than fail on
            # every message until the user finds `cancel`.
            log.warning("dialog state no longer fits the form", extra={"error": repr(error)})
            await dc.context.send_activity(_(self._outdated_text))
            return await dc.end_dialog(None)

    async def _continue(
        self, dc: DialogContext, state: dict[str, Any], reply: Reply
    ) -> DialogTurnResult:
        step = self._by_name[state["step"]]
        if reply.form is not None and reply.form != step.name:
            # A button on an older card: answer with the current question, change nothing.
            await dc.context.send_activity(_(self._stale_text))
            await self._ask(dc, step, state)
            return Dialog.end_of_turn
        if reply.action == "back":
            state["problems"] = []
            # The step before that can still be asked: time may have made one moot (a
            # meeting that has passed since).
            while state["history"]:
                earlier = self._by_name[state["history"].pop()]
                if earlier.askable(state["answers"]):
                    step = earlier
                    break
            await self._ask(dc, step, state)
            return Dialog.end_of_turn

        if reply.timezone:
            state["answers"]["reader_zone"] = reply.timezone
        outcome = await step.receive(state["answers"], reply)
        if isinstance(outcome, Finish):
            await dc.context.send_activities([message_of(m) for m in outcome.messages])
            return await dc.end_dialog(state["answers"])
        if isinstance(outcome, Advance) and outcome.restart:
            kept = {k: v for k, v in state["answers"].items() if k in self._carried}
            state["answers"] = {**kept, **outcome.updates}
            state["history"] = []
        else:
            state["answers"].update(outcome.updates)
        if isinstance(outcome, Retry):
            state["problems"] = list(outcome.problems)
            await self._ask(dc, step, state)
            return Dialog.end_of_turn
        state["problems"] = []
        following = self._next_after(step.name, state["answers"])
        if following is None:
            log.error("form ran out of steps", extra={"dialog": self.id, "step": step.name})
            return await dc.end_dialog(state["answers"])
        state["history"].append(step.name)
        if outcome.notices:
            await dc.context.send_activities([message_of(n) for n in outcome.notices])
        await self._ask(dc, following, state)
        return Dialog.end_of_turn

    async def resume_dialog(
        self, dc: DialogContext, reason: object, result: object = None
    ) -> DialogTurnResult:
        step = self._by_name[dc.active_dialog.state["step"]]
        await self._ask(dc, step, dc.active_dialog.state)
        return Dialog.end_of_turn

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Asks the current step again, with its answers (after a detour the person chose:
        keeping the draft instead of starting another)."""
        state = instance.state
        step = self._by_name[state["step"]]
        if not step.askable(state["answers"]):
            # Time passed while the person was away (a meeting, a shift end): the question
            # is moot, the next one that applies is asked.
            step = self._next_after(step.name, state["answers"]) or step
            state["step"], state["problems"] = step.name, []
        messages = await step.ask(state["answers"], state.get("problems", []))
        await context.send_activities([message_of(m) for m in messages])


def answers_in_progress(dc: DialogContext) -> Answers:
    """The answers of the form dialog in progress (empty when there is none)."""
    if dc.active_dialog is None:
        return {}
    answers = dc.active_dialog.state.get("answers")
    return answers if isinstance(answers, dict) else {}


def reply_from(dc: DialogContext) -> Reply:
    activity = dc.context.activity
    sender = activity.from_property
    value = activity.value if isinstance(activity.value, dict) else None
    return Reply(
        text=(activity.text or "").strip(),
        value=value,
        user=Person(id=sender.id, name=sender.name or "", aad_object_id=sender.aad_object_id),
        timezone=client_timezone(activity),
    )


def step_in_progress(dc: DialogContext) -> str | None:
    """The name of the step the form dialog in progress asked last (None without one)."""
    if dc.active_dialog is None:
        return None
    step = dc.active_dialog.state.get("step")
    return step if isinstance(step, str) else None


def dialog_set(state: StatePropertyAccessor, *dialogs: Dialog) -> DialogSet:
    """The bot's dialogs, kept in `state` (made here so that the SDK's dialogs are imported
    through this package: see dialogs/sdk_package.py)."""
    made = DialogSet(state)
    for dialog in dialogs:
        made.add(dialog)
    return made
