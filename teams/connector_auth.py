"""The Bot Connector from the bot's side: its tokens, and its outbound client.

The SDK's extension point for outbound calls, filled with the pooled Bot Connector client.

``CloudAdapter`` asks its ``BotFrameworkAuthentication`` for a connector factory (and a
user-token client) on every turn and proactive send. This wrapper keeps the SDK's inbound
authentication untouched and answers those two questions cheaply: the factory hands out one
:class:`~teams.connector_client.PooledConnectorClient` per service URL, and the user-token
client (which this bot never uses, but the SDK builds eagerly at ~3 ms) is built on first use.

Tokens: the bot's own tokens for the Bot Connector, from msal, fetched once and reused until expiry.

The SDK's credential factory builds a new ``MicrosoftAppCredentials`` (and with it a new msal
application and an empty token cache) for every turn and every proactive send, so each reply
costs a round trip to the identity platform. This factory hands out one credentials object
per authority and scope, backed by :class:`graph.token_provider.TokenProvider`, whose cache
serves the token until shortly before it expires. A managed identity (UserAssignedMSI) gets
the same, backed by :class:`graph.managed_identity.ManagedIdentityTokens`: its tokens come
from the Azure host instead of a client secret, and the pooled client sends with them too.

msal is synchronous, and the SDK asks for the token synchronously too (msrest's
``signed_session``, on the event loop, just before each call). So the token is fetched in a
worker thread when the SDK asks for the credentials (``create_credentials`` is awaited right
before the client is built), and ``get_access_token`` then only reads the cache: the process
keeps serving other requests while the identity platform answers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import (
    AppCredentials,
    AuthenticationConfiguration,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from botframework.connector.auth.authenticate_request_result import AuthenticateRequestResult

from config.settings import MICROSOFT_LOGIN_HOST, AppType, Settings
from graph.managed_identity import BOT_CONNECTOR_RESOURCE, ManagedIdentityTokens, identity_source
from graph.token_provider import CachedTokens, TokenProvider
from handoff.ports import SystemClock
from outbox.fault_log import FaultLog
from teams.connector_client import ConnectorHttp, PooledConnectorClient
from teams.endpoint import TEAMS_CHANNEL
from teams.middleware import TurnErrors, TurnSucceeded

log = logging.getLogger(__name__)
# A deployment talks to a handful of service URLs (one per region); more means something odd,
# and the cache starts over rather than grow.
MAX_SERVICE_URLS = 64
_CHANNEL_AUDIENCES = frozenset(
    {
        "",
        AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
        AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE + "/.default",
    }
)


class PooledConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    """Clients for the channel's audience come from the pool; any other audience (a skill,
    another cloud) goes to the SDK's own factory, which knows how to get its token."""

    def __init__(self, http: ConnectorHttp, fallback: ConnectorFactory | None = None) -> None:
        self._http = http
        self._fallback = fallback
        self._clients: dict[str, PooledConnectorClient] = {}

    def with_fallback(self, fallback: ConnectorFactory | None) -> PooledConnectorFactory:
        shared = PooledConnectorFactory(self._http, fallback)
        shared._clients = self._clients
        return shared

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        if (audience or "") not in _CHANNEL_AUDIENCES and self._fallback is not None:
            return await self._fallback.create(service_url, audience)
        client = self._clients.get(service_url)
        if client is None:
            if len(self._clients) >= MAX_SERVICE_URLS:
                self._clients.clear()
            client = self._clients[service_url] = PooledConnectorClient(self._http, service_url)
        return client


class _LazyUserTokenClient(UserTokenClient):  # type: ignore[misc]
    """The SDK's user-token client, built only when something asks for a user token."""

    def __init__(self, build: Callable[[], Awaitable[UserTokenClient]]) -> None:
        self._build = build
        self._client: UserTokenClient | None = None

    async def _inner(self) -> UserTokenClient:
        if self._client is None:
            self._client = await self._build()
        return self._client

    async def get_user_token(self, *args: Any) -> Any:
        return await (await self._inner()).get_user_token(*args)

    async def get_sign_in_resource(self, *args: Any) -> Any:
        return await (await self._inner()).get_sign_in_resource(*args)

    async def sign_out_user(self, *args: Any) -> Any:
        return await (await self._inner()).sign_out_user(*args)

    async def get_token_status(self, *args: Any) -> Any:
        return await (await self._inner()).get_token_status(*args)

    async def get_aad_tokens(self, *args: Any) -> Any:
        return await (await self._inner()).get_aad_tokens(*args)

    async def exchange_token(self, *args: Any) -> Any:
        return await (await self._inner()).exchange_token(*args)


class PooledBotFrameworkAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """Delegates to the SDK's authentication; only the outbound clients are ours."""

    def __init__(self, inner: BotFrameworkAuthentication, http: ConnectorHttp) -> None:
        self._inner = inner
        self._factory = PooledConnectorFactory(http)

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        result.connector_factory = self._factory.with_fallback(result.connector_factory)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_streaming_request(auth_header, channel_id_header)
        result.connector_factory = self._factory.with_fallback(result.connector_factory)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._factory.with_fallback(self._inner.create_connector_factory(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        return _LazyUserTokenClient(lambda: self._inner.create_user_token_client(claims_identity))

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)


_DEFAULT_SCOPE_SUFFIX = "/.default"


class MsalAppCredentials(AppCredentials):  # type: ignore[misc]
    """What msrest asks for a bearer token on each request; the provider answers from cache."""

    def __init__(self, app_id: str, scope: str, tokens: CachedTokens) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self._tokens = tokens

    @property
    def tokens(self) -> CachedTokens:
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
    def __init__(
        self,
        app_id: str,
        password: str,
        login_url: str,
        *,
        seconds: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app_id = app_id
        self._password = password
        self._login_url = login_url
        self._seconds = seconds
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
                tokens = self._new_tokens(authority, scope)
                credentials = MsalAppCredentials(self._app_id, scope, tokens)
                self._credentials[(authority, scope)] = credentials
        # In a worker thread (on a cache miss only): the SDK's get_access_token that follows
        # then reads the cache instead of calling msal on the event loop.
        await credentials.tokens.token()
        return credentials

    def _new_tokens(self, authority: str, scope: str) -> CachedTokens:
        return TokenProvider(
            self._app_id,
            self._password,
            authority,
            scopes=[scope + _DEFAULT_SCOPE_SUFFIX],
            # Instance discovery asks Microsoft's cloud about the authority; a private one
            # (tests, sovereign clouds) answers for itself.
            instance_discovery=_host(authority) == _host(MICROSOFT_LOGIN_HOST),
            purpose="Bot Connector",
            seconds=self._seconds,
        )


class ManagedIdentityCredentialFactory(CachedCredentialFactory):
    """The same for a managed identity: the SDK's own clients (another audience, a skill) get
    the identity's token for their resource, fetched once per lifetime, off the event loop;
    the authority the SDK names is not used, the Azure host issues the tokens."""

    def __init__(self, app_id: str, *, seconds: Callable[[], float] = time.monotonic) -> None:
        super().__init__(app_id, "", "", seconds=seconds)

    def _new_tokens(self, authority: str, scope: str) -> CachedTokens:
        return ManagedIdentityTokens(
            self._app_id, scope, purpose="Bot Connector", seconds=self._seconds
        )


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


@dataclass(frozen=True)
class BotFrameworkConfig:
    """The attribute names the SDK's ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str
    # Any of these switches the SDK to its parameterized authentication; they carry the public
    # cloud's values unless settings point elsewhere (a sovereign cloud, the tests' fakes).
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str
    TO_CHANNEL_FROM_BOT_OAUTH_SCOPE: str = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
    TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL: str = (
        AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
    )
    OAUTH_URL: str = AuthenticationConstants.OAUTH_URL
    CALLER_ID: str = CallerIdConstants.public_azure_channel.value
    VALIDATE_AUTHORITY: bool = True


BOT_CONNECTOR_SCOPE = BOT_CONNECTOR_RESOURCE + _DEFAULT_SCOPE_SUFFIX


def build_connector_http(
    settings: Settings,
    on_answer: Callable[[int | None], None] = lambda _status: None,
    *,
    seconds: Callable[[], float] = time.monotonic,
) -> ConnectorHttp:
    """The pooled Bot Connector client with the bot's tokens: none in local mode, the managed
    identity's for UserAssignedMSI, else the client secret's. `on_answer` is told the status
    of each request it makes (/metrics); `seconds` is the clock that renews the token."""
    if settings.local_mode:
        return ConnectorHttp(None, on_answer=on_answer)
    if settings.app_type is AppType.USER_ASSIGNED_MSI:
        log.info(
            "the bot's tokens come from its managed identity",
            extra={"client_id": settings.app_id, "source": identity_source()},
        )
        identity = ManagedIdentityTokens(
            settings.app_id, BOT_CONNECTOR_RESOURCE, purpose="Bot Connector", seconds=seconds
        )
        return ConnectorHttp(identity, on_answer=on_answer)
    authority = settings.channel_login_url
    tokens = TokenProvider(
        settings.app_id,
        settings.app_password,
        authority,
        scopes=(BOT_CONNECTOR_SCOPE,),
        # Instance discovery asks Microsoft's cloud about the authority; a private one
        # (tests, sovereign clouds) answers for itself.
        instance_discovery=authority.startswith(MICROSOFT_LOGIN_HOST + "/"),
        purpose="Bot Connector",
        seconds=seconds,
    )
    return ConnectorHttp(tokens, on_answer=on_answer)


def create_adapter(
    settings: Settings,
    connector_http: ConnectorHttp | None = None,
    faults: FaultLog | None = None,
    *,
    seconds: Callable[[], float] = time.monotonic,
) -> CloudAdapter:
    config = BotFrameworkConfig(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE=settings.app_type.value,
        APP_TENANTID=settings.app_tenant_id,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.openid_metadata_url,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=settings.channel_login_url,
    )
    # A password or a managed identity goes through msal once per token lifetime instead of
    # once per reply (the SDK's own factories would build new credentials for every call).
    credentials: CachedCredentialFactory = (
        ManagedIdentityCredentialFactory(settings.app_id, seconds=seconds)
        if settings.app_type is AppType.USER_ASSIGNED_MSI
        else CachedCredentialFactory(
            settings.app_id, settings.app_password, settings.channel_login_url, seconds=seconds
        )
    )
    auth = ConfigurationBotFrameworkAuthentication(
        config,
        credentials_factory=credentials,
        # Only Teams talks to this bot: a key the Bot Framework does not endorse for Teams
        # is refused even when the activity claims to come from another channel.
        auth_configuration=AuthenticationConfiguration(required_endorsements=[TEAMS_CHANNEL]),
    )
    if connector_http is not None:
        # Outbound calls over one pooled session; inbound authentication stays the SDK's.
        auth = PooledBotFrameworkAuthentication(auth, connector_http)
    adapter = CloudAdapter(auth)
    faults = faults or FaultLog(SystemClock())
    adapter.on_turn_error = TurnErrors(faults)
    adapter.use(TurnSucceeded(faults))
    return adapter
