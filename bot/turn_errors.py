"""What a user sees when a turn fails: one line of apology, never a stack trace."""

from __future__ import annotations

import logging

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes

from storage.errors import StorageUnavailable

from . import messages
from .card_actions import invoke_body_text
from .deliveries import DeliveryInProgress

log = logging.getLogger(__name__)


async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    if isinstance(error, DeliveryInProgress):
        raise error  # not a failure: the endpoint answers 503 so that Teams tries again later
    activity = turn_context.activity
    log.error(
        "turn failed",
        exc_info=error,
        extra={
            "activity_id": activity.id,
            "activity_type": activity.type,
            "conversation_id": activity.conversation.id if activity.conversation else None,
        },
    )
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
