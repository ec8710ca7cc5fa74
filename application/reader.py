"""The reader's time zone: where a use case shows times."""

from __future__ import annotations

from handoff.ports import UserSettingsStore

from .request import Request

DEFAULT_ZONE = "Etc/UTC"


async def reader_zone(settings: UserSettingsStore, request: Request) -> str:
    """The IANA zone to show the sender times in: the one they saved with `settings`, else
    their Teams client's, else UTC."""
    saved = await settings.user_settings(request.actor.id)
    return (saved.timezone if saved else None) or request.client_zone or DEFAULT_ZONE
