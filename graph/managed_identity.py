"""Tokens from the Azure host's managed identity, with msal's own ``ManagedIdentityClient``.

A bot whose Azure Bot is of type UserAssignedMSI has no client secret: its app id is the
client id of a user-assigned managed identity, and the host it runs on hands out that
identity's tokens. On Azure Container Apps and App Service the host sets IDENTITY_ENDPOINT and
IDENTITY_HEADER, and msal asks ``GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=…
&client_id=…`` with the header ``X-IDENTITY-HEADER``; elsewhere (a VM, AKS) it asks the
instance metadata service. Which one is msal's choice (msal/managed_identity.py), read from
the environment on every request.

The caching is :class:`~graph.token_provider.CachedTokens`', so a managed identity's token is
fetched once per lifetime, renewed before it expires, fetched in a worker thread, and a
refusal is a :class:`GraphAuthError` naming what to check.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msal
import requests

from .token_provider import CachedTokens

__all__ = [
    "BOT_CONNECTOR_RESOURCE",
    "GRAPH_RESOURCE",
    "IDENTITY_TIMEOUT_SECONDS",
    "ManagedIdentityTokens",
    "identity_source",
]

GRAPH_RESOURCE = "https://graph.microsoft.com"
BOT_CONNECTOR_RESOURCE = "https://api.botframework.com"
# msal sets no timeout: without one, a host with no identity endpoint (the metadata service
# unreachable) would hold a send for minutes instead of failing it for a retry.
IDENTITY_TIMEOUT_SECONDS = 10.0
_SCOPE_SUFFIX = "/.default"

_log = logging.getLogger(__name__)


class _TimedSession(requests.Session):
    """A requests session whose requests time out unless told otherwise."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", IDENTITY_TIMEOUT_SECONDS)
        return super().request(*args, **kwargs)


def identity_source() -> str:
    """Where msal asks for the managed identity's tokens on this host, for logs and hints."""
    endpoint = os.environ.get("IDENTITY_ENDPOINT")
    if endpoint and os.environ.get("IDENTITY_HEADER"):
        return f"the host's identity endpoint IDENTITY_ENDPOINT ({endpoint})"
    return (
        "the Azure instance metadata service (IDENTITY_ENDPOINT is not set: on Container Apps "
        "or App Service that means no managed identity is assigned to the app)"
    )


class ManagedIdentityTokens(CachedTokens):
    """The user-assigned managed identity ``client_id``'s tokens for ``resource``.

    ``resource`` is what Azure calls it (``https://graph.microsoft.com``); a scope ending in
    ``/.default`` is taken as its resource. ``http_client`` defaults to a requests session
    with a timeout that honours the environment (proxies, REQUESTS_CA_BUNDLE).
    """

    def __init__(
        self,
        client_id: str,
        resource: str,
        *,
        http_client: requests.Session | None = None,
        purpose: str = "Graph",
        seconds: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(purpose=purpose, seconds=seconds)
        self._client_id = client_id
        self._resource = resource.removesuffix(_SCOPE_SUFFIX)
        self._msal_cache = msal.TokenCache()
        self._client = msal.ManagedIdentityClient(
            msal.UserAssignedManagedIdentity(client_id=client_id),
            http_client=http_client or _TimedSession(),
            token_cache=self._msal_cache,
        )

    def _acquire(self, force_refresh: bool) -> Mapping[str, Any] | None:
        # Called only when this provider's token is due (or refused by a service): msal's
        # own cache, on its own clock, would hand back the very token being replaced.
        stale = list(self._msal_cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN))
        for entry in stale:
            self._msal_cache.remove_at(entry)
        try:
            result: dict[str, Any] = self._client.acquire_token_for_client(resource=self._resource)
        except json.JSONDecodeError as error:
            return {
                "error": "invalid_response",
                "error_description": f"the identity endpoint's answer is not JSON ({error})",
            }
        except msal.ManagedIdentityError as error:
            return {"error": "managed_identity_error", "error_description": str(error)}
        except requests.RequestException as error:
            # Worth a retry (the caller's), but an operator needs to know where it looked.
            _log.warning(
                "managed identity endpoint unreachable",
                extra={
                    "purpose": self._purpose,
                    "error": str(error),
                    "hint": self._hint("unreachable", []),
                    **self._describe(),
                },
            )
            raise
        return result

    def _hint(self, error: str, codes: Sequence[int]) -> str:
        return (
            "Check that the user-assigned managed identity whose client id is MicrosoftAppId "
            f"({self._client_id}) is assigned to this container app (Azure portal: the "
            "container app → Identity → User assigned), and that MicrosoftAppId is that "
            "identity's client id, not its object (principal) id. The token was asked of "
            f"{identity_source()}."
        )

    def _describe(self) -> dict[str, str]:
        return {"client_id": self._client_id, "resource": self._resource}
