"""Synthetic, deterministic identities for tests (tenant, bot, team, channel, users).

Shaped like Teams ids (``28:`` bots, ``29:`` users, ``19:...@thread.tacv2`` channels) but
derived from names, so they are stable across runs and never real. The fakes and the
activity builders share these defaults, so a test that names nobody still gets a
consistent world: the user who writes is the member the connector returns.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass

__all__ = [
    "DEFAULT_AAD_GROUP_ID",
    "DEFAULT_BOT_APP_ID",
    "DEFAULT_BOT_ID",
    "DEFAULT_BOT_NAME",
    "DEFAULT_CHANNEL_ID",
    "DEFAULT_CHANNEL_NAME",
    "DEFAULT_TEAM_ID",
    "DEFAULT_TEAM_NAME",
    "DEFAULT_TENANT_ID",
    "DEFAULT_USER",
    "TeamsUser",
    "channel_id_for",
    "fake_user",
    "personal_conversation_id",
    "stable_guid",
]


def stable_guid(*parts: str) -> str:
    """A GUID that depends only on ``parts``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "harness:" + ":".join(parts)))


def _token(*parts: str, length: int) -> str:
    digest = hashlib.sha256(":".join(parts).encode()).digest() * 4
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


def channel_id_for(name: str) -> str:
    """A Teams channel (or team) id for ``name``: ``19:<32 hex>@thread.tacv2``."""
    return f"19:{uuid.UUID(stable_guid('channel', name)).hex}@thread.tacv2"


def personal_conversation_id(user_id: str, bot_id: str) -> str:
    """The 1:1 conversation id of a user with a bot; stable, as in Teams."""
    return "a:1" + _token("personal", user_id, bot_id, length=90)


@dataclass(frozen=True)
class TeamsUser:
    """A person as Teams shows them to a bot."""

    id: str
    name: str
    aad_object_id: str
    email: str

    @property
    def user_principal_name(self) -> str:
        return self.email


def fake_user(name: str) -> TeamsUser:
    """A deterministic Teams user for ``name`` (same name, same ids)."""
    email = f"{name.lower().replace(' ', '.')}@contoso.example"
    return TeamsUser(
        id="29:1" + _token("user", name, length=80),
        name=name,
        aad_object_id=stable_guid("aad", name),
        email=email,
    )


DEFAULT_TENANT_ID = "00000000-0000-4000-8000-00000000feed"
DEFAULT_BOT_APP_ID = "00000000-0000-4000-8000-0000000000b0"
DEFAULT_BOT_ID = f"28:{DEFAULT_BOT_APP_ID}"
DEFAULT_BOT_NAME = "Handoff Bot"
DEFAULT_TEAM_NAME = "Support"
# In Teams the General channel's id is the team's id.
DEFAULT_TEAM_ID = channel_id_for(DEFAULT_TEAM_NAME)
DEFAULT_AAD_GROUP_ID = stable_guid("group", DEFAULT_TEAM_ID)
DEFAULT_CHANNEL_NAME = "Case Transfer"
DEFAULT_CHANNEL_ID = channel_id_for(DEFAULT_CHANNEL_NAME)
DEFAULT_USER = fake_user("Test User")
