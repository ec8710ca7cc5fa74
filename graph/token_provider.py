"""App-only access tokens for Microsoft Graph, from msal's client-credentials flow."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msal
import requests

from .errors import GraphAuthError

__all__ = ["GRAPH_DEFAULT_SCOPE", "CachedTokens", "GraphAuthError", "TokenProvider"]

GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"

_log = logging.getLogger(__name__)

# AADSTS codes that point at one setting; the OAuth error names alone are too coarse
# (invalid_client covers both a wrong and an expired secret, for instance).
_PASSWORD_CODES = frozenset({7000215, 7000222, 7000216})  # wrong / expired / missing secret
_APP_ID_CODES = frozenset({700016})  # application not found in the directory
_TENANT_CODES = frozenset({90002, 90023})  # tenant not found / invalid tenant
# A cached token is renewed this long before it expires, so no request carries a stale one.
_RENEW_BEFORE_SECONDS = 300.0


def _hint(error: str, codes: Sequence[int]) -> str:
    """What to fix, in the settings' own names, for an msal error."""
    code_set = set(codes)
    if code_set & _PASSWORD_CODES or error == "invalid_client":
        return (
            "Check MicrosoftAppPassword: it must be the client secret's value (not its id) "
            "and must not have expired."
        )
    if code_set & _APP_ID_CODES or error == "unauthorized_client":
        return (
            "Check MicrosoftAppId, and that MicrosoftAppTenantId is the tenant the app is "
            "registered in (or consented to)."
        )
    if code_set & _TENANT_CODES or error == "invalid_authority":
        return "Check MicrosoftAppTenantId (the tenant id or domain in the authority URL)."
    if error == "invalid_scope":
        return "Check the scope: client-credential scopes must end with /.default."
    return "Check MicrosoftAppId, MicrosoftAppPassword and MicrosoftAppTenantId."


def _error_codes(result: Mapping[str, Any]) -> list[int]:
    codes = result.get("error_codes")
    if not isinstance(codes, list):
        return []
    return [code for code in codes if isinstance(code, int)]


class CachedTokens(ABC):
    """A token from msal, kept until shortly before it expires: what every token source of the
    bot shares (a client secret's here, a managed identity's in graph/managed_identity.py).

    ``seconds`` is the clock that decides renewal (monotonic; tests inject a fake one).
    """

    def __init__(self, *, purpose: str, seconds: Callable[[], float] = time.monotonic) -> None:
        self._purpose = purpose
        self._seconds = seconds
        # One lock for acquiring: concurrent cache misses would each ask for a token. A thread
        # lock, not an asyncio one, because the work runs in worker threads.
        self._lock = threading.Lock()
        # The last token and when to renew it: a cache hit costs no thread hop, which matters
        # on the Bot Connector's path where every send needs the token.
        self._cached: tuple[str, float] | None = None

    async def token(self, *, force_refresh: bool = False) -> str:
        """An access token, cached until shortly before it expires.

        ``force_refresh`` drops the cached token first (the service answered 401 to it).
        Raises :class:`GraphAuthError` when the identity platform refuses the app.
        """
        cached = None if force_refresh else self.cached_token()
        if cached is not None:
            return cached
        # msal is synchronous (requests); keep it off the event loop.
        return await asyncio.to_thread(self.token_blocking, force_refresh)

    def cached_token(self) -> str | None:
        """The last token while it is not due for renewal, without any I/O; None otherwise."""
        cached = self._cached
        if cached is not None and self._seconds() < cached[1]:
            return cached[0]
        return None

    def token_blocking(self, force_refresh: bool = False) -> str:
        """The same, blocking: only for worker threads, never the event loop."""
        with self._lock:
            cached = None if force_refresh else self.cached_token()
            if cached is not None:
                return cached  # another thread fetched it while this one waited
            self._cached = None
            result = self._acquire(force_refresh)
            if not result or "access_token" not in result:
                raise self._refused(result or {})
            if result.get("token_source") == "identity_provider":
                _log.info("got a new token", extra={"purpose": self._purpose, **self._describe()})
            token = str(result["access_token"])
            expires_in = result.get("expires_in")
            if isinstance(expires_in, int | float) and expires_in > _RENEW_BEFORE_SECONDS:
                self._cached = (token, self._seconds() + expires_in - _RENEW_BEFORE_SECONDS)
            return token

    def _refused(self, result: Mapping[str, Any]) -> GraphAuthError:
        error = str(result.get("error") or "no_token")
        description = str(result.get("error_description") or "msal returned no token.")
        hint = self._hint(error, _error_codes(result))
        _log.warning(
            "token refused",
            extra={
                "purpose": self._purpose,
                "error": error,
                "error_codes": _error_codes(result),
                "hint": hint,
                **self._describe(),
            },
        )
        return GraphAuthError(error, description, hint, purpose=self._purpose)

    @abstractmethod
    def _acquire(self, force_refresh: bool) -> Mapping[str, Any] | None:
        """msal's answer (a token, or an error); runs under the lock, in a worker thread."""

    @abstractmethod
    def _hint(self, error: str, codes: Sequence[int]) -> str:
        """What to fix, in the settings' own names."""

    @abstractmethod
    def _describe(self) -> dict[str, str]:
        """Who asks for the token, for the log (never a secret)."""


# How long one call to the token service may take before it counts as failed.
TOKEN_TIMEOUT_SECONDS = 10.0


class TokenProvider(CachedTokens):
    """Gets (and caches) an app-only token with the real ``msal.ConfidentialClientApplication``.

    ``authority`` is ``https://login.microsoftonline.com/<tenant>`` in production; tests pass
    a local HTTPS fake's authority together with an ``http_client`` that trusts its CA and
    ``instance_discovery=False``, which makes msal skip its call to login.microsoftonline.com
    and fetch ``{authority}/v2.0/.well-known/openid-configuration`` directly
    (msal/authority.py, ``_initialize_entra_authority``).
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        authority: str,
        *,
        scopes: Sequence[str] = (GRAPH_DEFAULT_SCOPE,),
        http_client: requests.Session | None = None,
        instance_discovery: bool = True,
        purpose: str = "Graph",
        seconds: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(purpose=purpose, seconds=seconds)
        self._client_id = client_id
        self._client_secret = client_secret
        self._authority = authority
        self._scopes = list(scopes)
        self._http_client = http_client
        self._instance_discovery = instance_discovery
        self._app: msal.ConfidentialClientApplication | None = None

    def _acquire(self, force_refresh: bool) -> Mapping[str, Any] | None:
        app = self._application()
        if force_refresh:
            # acquire_token_for_client refuses force_refresh=True; removing the cached
            # tokens is msal's supported way to make the next call go to the network.
            app.remove_tokens_for_client()
        result: dict[str, Any] | None = app.acquire_token_for_client(scopes=self._scopes)
        return result

    def _hint(self, error: str, codes: Sequence[int]) -> str:
        return _hint(error, codes)

    def _describe(self) -> dict[str, str]:
        return {"client_id": self._client_id}

    def _application(self) -> msal.ConfidentialClientApplication:
        # Built on first use, not in __init__: the constructor talks to the network
        # (tenant discovery), and a failure there should be retried on the next call.
        if self._app is None:
            try:
                self._app = msal.ConfidentialClientApplication(
                    self._client_id,
                    client_credential=self._client_secret,
                    authority=self._authority,
                    http_client=self._http_client,
                    instance_discovery=self._instance_discovery,
                    # requests waits forever by default: a token service that accepts the
                    # connection and never answers would hold an outbox step (and shutdown).
                    timeout=TOKEN_TIMEOUT_SECONDS,
                )
            except ValueError as exc:
                # msal raises ValueError when the authority's discovery document is missing,
                # which is what an unknown tenant looks like.
                hint = _hint("invalid_authority", [])
                raise GraphAuthError(
                    "invalid_authority", str(exc), hint, purpose=self._purpose
                ) from exc
        return self._app
