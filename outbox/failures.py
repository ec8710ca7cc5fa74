"""How a step of an outbox item can end other than done: retried later, put back for a while,
or given up on. Senders raise these; the worker decides what follows."""

from __future__ import annotations

# The Bot Connector's answers worth another try later (design.md: the SDK does not retry).
RETRYABLE_STATUSES = frozenset({408, 412, 429, 500, 502, 503, 504})


class SendFailed(Exception):
    def __init__(self, message: str, *, status: int | None, retry_after: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE_STATUSES


class Paced(Exception):
    """Not a failure: the send waits `retry_after` (the conversation has used up its sends
    for a while, or, as `why` says, something else must happen first)."""

    def __init__(
        self, conversation_id: str, retry_after: float, why: str = "is at its send limit"
    ) -> None:
        super().__init__(f"conversation {conversation_id} {why}; next send in {retry_after:.1f} s")
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """Retrying will not help (the bot is not in that team, the person never chatted with it)."""
