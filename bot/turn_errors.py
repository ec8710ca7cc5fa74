"""What a user sees when a turn fails: one line of apology, never a stack trace."""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext

from storage.errors import StorageUnavailable

from . import messages

log = logging.getLogger(__name__)


async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
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
    if activity.type == "invoke":
        # An invoke's answer is its HTTP response; a chat message would appear out of place.
        return
    apology = messages.DATABASE_DOWN if isinstance(error, StorageUnavailable) else messages.SORRY
    try:
        await turn_context.send_activity(apology)
    except Exception:
        log.exception("could not send the apology", extra={"activity_id": activity.id})
