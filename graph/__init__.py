"""Microsoft Graph for 24x7 group chats: app-only tokens (msal: a client secret or a managed
identity) and the chat calls.

Imports only the domain (``handoff``) among our packages, never botbuilder or the bot.
"""

from .client import GraphClient, TokenSource
from .errors import GraphAuthError, GraphError, GraphPermissionError, GraphTransientError
from .managed_identity import ManagedIdentityTokens
from .token_provider import CachedTokens, TokenProvider

__all__ = [
    "CachedTokens",
    "GraphAuthError",
    "GraphClient",
    "GraphError",
    "GraphPermissionError",
    "GraphTransientError",
    "ManagedIdentityTokens",
    "TokenProvider",
    "TokenSource",
]
