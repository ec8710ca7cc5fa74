"""Errors the domain raises; each carries a message a support engineer can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Handoff


class DomainError(Exception):
    """A request the handoff process does not allow."""


class IllegalTransition(DomainError):
    """The handoff's current state does not allow the requested command."""


class NotAllowed(DomainError):
    """The acting person may not do this to this handoff."""


class InvalidCommand(DomainError):
    """The command is missing something the process needs (a reason, a text)."""


class ConcurrencyConflict(DomainError):
    """Someone changed the handoff since it was read; reload and try again."""


class ChangedMeanwhile(ConcurrencyConflict):
    """HandoffRepository.save's ConcurrencyConflict, with the handoff as it is now, read in
    the transaction that found it changed: whoever lost the race answers without reading
    again."""

    def __init__(self, message: str, current: Handoff) -> None:
        super().__init__(message)
        self.current = current


class AlreadyHandled(DomainError):
    """The idempotency key given with a change was recorded before: the change is a repeat
    (a redelivered activity, a second click) and nothing was written. `current`: the handoff
    as it is now, when the repository read it while finding out (else None)."""

    def __init__(self, message: str, current: Handoff | None = None) -> None:
        super().__init__(message)
        self.current = current


class DuplicateOpenHandoff(DomainError):
    """The case already has an open handoff; update that one instead of starting another."""


class NotFound(DomainError):
    """No such handoff."""


class StoreUnavailable(Exception):
    """Where the handoffs are kept cannot be reached just now (the storage adapter says which
    database and what to fix); transient: say "try again shortly", retry later."""
