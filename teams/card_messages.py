"""Where cards become messages, and only here (a test keeps it so): every card is checked
against Teams' size limit and shortened if need be (cards/fit.py), and every card message gets
the short summary Teams shows in notifications, the activity feed and the chat list, where a
card alone shows "Card".

Teams' clients read the activity's ``summary`` for that text (desktop and web; Android's push
path after the app has idled reads ``text`` instead, but ``text`` would also be shown above the
card in the chat, repeating its heading, so it is left out).
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import MessageFactory
from botbuilder.schema import Activity, Attachment

from cards.elements import CARD_CONTENT_TYPE, Json
from cards.fit import FittedCard, fit_card

log = logging.getLogger(__name__)


def _fitted(content: Json) -> FittedCard:
    fitted = fit_card(content)
    if fitted.left_out:
        log.warning(
            "card shortened to fit Teams' size limit",
            extra={
                "card": fitted.summary,
                "bytes_before": fitted.original_size,
                "bytes_after": fitted.size,
                "left_out": list(fitted.left_out),
            },
        )
    return fitted


def card_activity(content: Json) -> Activity:
    """The message that carries ``content``: within Teams' limit, with its summary."""
    fitted = _fitted(content)
    activity = MessageFactory.attachment(
        Attachment(content_type=CARD_CONTENT_TYPE, content=fitted.content)
    )
    activity.summary = fitted.summary
    return activity


def invoke_card(content: Json) -> dict[str, Any]:
    """The Universal Actions answer that replaces a card in place: within Teams' limit too (it
    is no new message, so it needs no summary)."""
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": _fitted(content).content}
