"""The replies a turn sends, kept to the Bot Connector's per-conversation limits by the same
pacer as the outbox's sends (teams.pacing): a person chatting with the bot while the outbox
sends them a burst must not push their chat over 7 sends a second.

A reply cannot be put off like an outbox item (the turn is waiting for it), so it waits
for its place inline, up to MAX_REPLY_WAIT_SECONDS; a longer wait (the 30 s or hourly limit)
is not made: the reply goes now and is logged, since the turn would time out otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar

from botbuilder.core import Middleware, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from teams.pacing import ConversationPacer

log = logging.getLogger(__name__)

MAX_REPLY_WAIT_SECONDS = 3.0

# Activities that are not a request to the Bot Connector (an invoke's answer goes back in
# the HTTP response; a trace is for the emulator only).
_NOT_SENT = frozenset({ActivityTypes.invoke_response, ActivityTypes.trace})

# Set around the outbox's sends, which take their places before they start a turn.
_ALREADY_PACED: ContextVar[bool] = ContextVar("already_paced", default=False)


@contextlib.contextmanager
def already_paced() -> Iterator[None]:
    token = _ALREADY_PACED.set(True)
    try:
        yield
    finally:
        _ALREADY_PACED.reset(token)


class ReplyPacing(Middleware):  # type: ignore[misc]
    def __init__(self, pacer: ConversationPacer) -> None:
        self._pacer = pacer

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        context.on_send_activities(self._pace)
        await logic()

    async def _pace(
        self,
        context: TurnContext,
        activities: list[Activity],
        send: Callable[[], Awaitable[None]],
    ) -> None:
        conversation = context.activity.conversation
        if not _ALREADY_PACED.get() and conversation is not None and conversation.id:
            for activity in activities:
                if activity.type in _NOT_SENT:
                    continue
                delay = self._pacer.reserve(conversation.id, MAX_REPLY_WAIT_SECONDS)
                if delay > MAX_REPLY_WAIT_SECONDS:
                    self._pacer.record(conversation.id)
                    log.warning(
                        "a reply goes over the conversation's send limit",
                        extra={"conversation_id": conversation.id, "wait": round(delay, 1)},
                    )
                elif delay > 0:
                    await asyncio.sleep(delay)
        await send()
