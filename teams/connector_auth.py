"""The SDK's extension point for outbound calls, filled with the pooled Bot Connector client.

``CloudAdapter`` asks its ``BotFrameworkAuthentication`` for a connector factory (and a
user-token client) on every turn and proactive send. This wrapper keeps the SDK's inbound
authentication untouched and answers those two questions cheaply: the factory hands out one
:class:`~teams.connector_client.PooledConnectorClient` per service URL, and the user-token
client (which this bot never uses, but the SDK builds eagerly at ~3 ms) is built on first use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.schema import Activity
from botframework.connector.auth import (
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.auth.authenticate_request_result import AuthenticateRequestResult

from teams.connector_client import ConnectorHttp, PooledConnectorClient

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
