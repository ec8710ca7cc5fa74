"""One id per request to /api/messages, on every log line written while it is handled (the
endpoint, the middleware, the handlers, the use cases, storage), and on the outbox items the
request enqueues and every line written while the outbox works on them: an operator follows
one click from the request to the card update with `grep '"turn_id": "…"'`.

Here, below every layer, because the edge sets it, storage records it and the outbox worker
takes it up again; plain Python, no I/O."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_CURRENT: ContextVar[str | None] = ContextVar("turn_id", default=None)


@contextmanager
def new_turn() -> Iterator[str]:
    """A fresh id for the request handled inside the block (asyncio tasks it starts inherit
    it, as they copy the context)."""
    turn_id = secrets.token_hex(8)
    token = _CURRENT.set(turn_id)
    try:
        yield turn_id
    finally:
        _CURRENT.reset(token)


@contextmanager
def resumed_turn(turn_id: str | None) -> Iterator[None]:
    """Work done later for a turn (an outbox item it enqueued) logs under that turn's id."""
    token = _CURRENT.set(turn_id)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_turn() -> str | None:
    return _CURRENT.get()


class TurnIdFilter(logging.Filter):
    """Adds `turn_id` to each record written inside a turn (a record that names one keeps it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        turn_id = _CURRENT.get()
        if turn_id is not None and not hasattr(record, "turn_id"):
            record.turn_id = turn_id
        return True
