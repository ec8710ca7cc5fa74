"""Errors the domain raises; each carries a message a support engineer can act on."""


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


class NotFound(DomainError):
    """No such handoff."""


class StoreUnavailable(Exception):
    """Where the handoffs are kept cannot be reached just now (the storage adapter says which
    database and what to fix); transient: say "try again shortly", retry later."""
