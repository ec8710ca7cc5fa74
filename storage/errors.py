"""Errors the storage layer raises on top of the domain's own (handoff.errors)."""

from handoff.errors import StoreUnavailable


class StorageUnavailable(StoreUnavailable):
    """The database cannot be reached or written; the message says where and what to fix.

    Callers treat it as transient: report "try again shortly" to the user and retry later."""


class UniqueViolation(Exception):
    """A write hit a UNIQUE constraint; raised by the drivers so the store can map it to a
    domain error without knowing which driver is underneath."""
