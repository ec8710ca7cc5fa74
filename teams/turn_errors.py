"""What a user sees when a turn fails: one line of apology, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from botbuilder.core import InvokeResponse, Middleware, TurnContext
from botbuilder.schema import Activity, ActivityEventNames, ActivityTypes

from application import messages
from application.transfers import invoke_body_text
from storage.errors import StorageUnavailable
from teams.deliveries import DeliveryInProgress
from teams.fault_log import DATABASE_UNAVAILABLE, FaultLog

log = logging.getLogger(__name__)


# What fails, in the FaultLog's lines.
_TURNS = "turns"


class TurnErrors:
    """The adapter's on_turn_error. A turn that fails on a database that is away is logged
    through the process's FaultLog: its traceback once, then a count every 30 s, not one per
    request, until a turn succeeds again (`TurnSucceeded`); the person is told to try again
    every time all the same."""

    def __init__(self, faults: FaultLog) -> None:
        self._faults = faults

    async def __call__(self, turn_context: TurnContext, error: Exception) -> None:
        if isinstance(error, DeliveryInProgress):
            raise error  # not a failure: the endpoint answers 503 so that Teams tries again later
        activity = turn_context.activity
        context = {
            "activity_id": activity.id,
            "activity_type": activity.type,
            "conversation_id": activity.conversation.id if activity.conversation else None,
        }
        if isinstance(error, StorageUnavailable):
            self._faults.failed(log, DATABASE_UNAVAILABLE, _TURNS, "turn failed", error, context)
        else:
            log.error("turn failed", exc_info=error, extra=context)
        await _apologise(turn_context, error)


class TurnSucceeded(Middleware):  # type: ignore[misc]
    """Tells the FaultLog of each turn that ran to its end, which ends an outage's count of
    failed turns. A failed turn's error passes through here on its way to TurnErrors. The
    outbox's sends run as turns of the adapter too (continue_conversation) and do not count:
    they are not what failed."""

    def __init__(self, faults: FaultLog) -> None:
        self._faults = faults

    async def on_turn(self, context: TurnContext, logic: Callable[[], Awaitable[None]]) -> None:
        await logic()
        activity = context.activity
        if not (
            activity.type == ActivityTypes.event
            and activity.name == ActivityEventNames.continue_conversation
        ):
            self._faults.recovered(DATABASE_UNAVAILABLE, _TURNS)


async def _apologise(turn_context: TurnContext, error: Exception) -> None:
    activity = turn_context.activity
    apology = messages.DATABASE_DOWN if isinstance(error, StorageUnavailable) else messages.SORRY
    try:
        if activity.type == ActivityTypes.invoke:
            # An invoke's answer is its HTTP response (a chat message would appear out of
            # place): the clicker sees the apology on the card instead of a bare HTTP 501.
            response = InvokeResponse(status=200, body=invoke_body_text(apology))
            await turn_context.send_activity(
                Activity(type=ActivityTypes.invoke_response, value=response)
            )
            return
        await turn_context.send_activity(apology)
    except Exception:
        log.exception("could not send the apology", extra={"activity_id": activity.id})
