"""Microsoft Graph for 24x7 group chats: app-only tokens (msal) and the chat calls.

Imports only the domain (``handoff``) among our packages, never botbuilder or the bot.
"""

from .client import GraphClient, TokenSource
from .errors import GraphAuthError, GraphError, GraphPermissionError, GraphTransientError
from .token_provider import TokenProvider

__all__ = [
    "GraphAuthError",
    "GraphClient",
    "GraphError",
    "GraphPermissionError",
    "GraphTransientError",
    "TokenProvider",
    "TokenSource",
]
