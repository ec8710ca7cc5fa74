"""The bot's own tokens for the Bot Connector, from msal, fetched once and reused until expiry.

The SDK's credential factory builds a new ``MicrosoftAppCredentials`` (and with it a new msal
application and an empty token cache) for every turn and every proactive send, so each reply
costs a round trip to the identity platform. This factory hands out one credentials object
per authority and scope, backed by :class:`graph.token_provider.TokenProvider`, whose msal
cache serves the token until shortly before it expires.

msal is synchronous, and the SDK asks for the token synchronously too (msrest's
``signed_session``, on the event loop, just before each call). So the token is fetched in a
worker thread when the SDK asks for the credentials (``create_credentials`` is awaited right
before the client is built), and ``get_access_token`` then only reads the cache: the process
keeps serving other requests while the identity platform answers.
"""

from __future__ import annotations

import asyncio
import threading
from urllib.parse import urlsplit

from botframework.connector.auth import (
    AppCredentials,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
)

from config.settings import MICROSOFT_LOGIN_HOST
from graph.token_provider import TokenProvider

_DEFAULT_SCOPE_SUFFIX = "/.default"


class MsalAppCredentials(AppCredentials):  # type: ignore[misc]
    """What msrest asks for a bearer token on each request; the provider answers from cache."""

    def __init__(self, app_id: str, scope: str, tokens: TokenProvider) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self._tokens = tokens

    @property
    def tokens(self) -> TokenProvider:
        return self._tokens

    def get_access_token(self, force_refresh: bool = False) -> str:
        cached = None if force_refresh else self._tokens.cached_token()
        if cached is not None:
            return cached
        if _on_event_loop():
            # A round trip to the identity platform here would stall every request the
            # process serves; create_credentials fetches the token first, so this is a bug.
            raise TokenNotReady(
                "The Bot Connector token was not fetched before the SDK asked for it on the "
                "event loop; get the credentials through create_credentials."
            )
        return self._tokens.token_blocking(force_refresh)


class TokenNotReady(RuntimeError):
    """The SDK asked on the event loop for a token nobody fetched in the background first."""


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class CachedCredentialFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    def __init__(self, app_id: str, password: str, login_url: str) -> None:
        self._app_id = app_id
        self._password = password
        self._login_url = login_url
        self._credentials: dict[tuple[str, str], MsalAppCredentials] = {}
        self._lock = threading.Lock()

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(self._app_id) and app_id == self._app_id

    async def is_authentication_disabled(self) -> bool:
        return not self._app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if not self._app_id:
            return MicrosoftAppCredentials.empty()
        if app_id != self._app_id:
            raise PermissionError(f"No credentials for app id {app_id!r}")
        authority = (login_endpoint or self._login_url).rstrip("/")
        scope = oauth_scope.removesuffix(_DEFAULT_SCOPE_SUFFIX)
        with self._lock:
            credentials = self._credentials.get((authority, scope))
            if credentials is None:
                tokens = TokenProvider(
                    self._app_id,
                    self._password,
                    authority,
                    scopes=[scope + _DEFAULT_SCOPE_SUFFIX],
                    # Instance discovery asks Microsoft's cloud about the authority; a private
                    # one (tests, sovereign clouds) answers for itself.
                    instance_discovery=_host(authority) == _host(MICROSOFT_LOGIN_HOST),
                    purpose="Bot Connector",
                )
                credentials = MsalAppCredentials(self._app_id, scope, tokens)
                self._credentials[(authority, scope)] = credentials
        # In a worker thread (on a cache miss only): the SDK's get_access_token that follows
        # then reads the cache instead of calling msal on the event loop.
        await credentials.tokens.token()
        return credentials


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
