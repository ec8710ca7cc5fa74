"""One log line per refused action, the same shape wherever it was refused (a card button, a
command, an escalation decision), so an attack or a confused user shows in one search."""

from __future__ import annotations

import logging

from handoff.models import Person

log = logging.getLogger(__name__)

_MAX_ID = 64  # ids come from untrusted card data: logged, but cut short


def log_refusal(message: str, reason: str, verb: str, actor: Person, **subject: str | None) -> None:
    """`message` says what was refused, `reason` why; `subject` names what it was done to
    (handoff_id=..., escalation_id=..., case=...)."""
    log.warning(
        message,
        extra={
            "reason": reason,
            "verb": verb,
            "user_id": actor.id,
            **{name: (value or "")[:_MAX_ID] for name, value in subject.items()},
        },
    )
