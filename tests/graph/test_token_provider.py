"""TokenProvider against the local HTTPS identity platform, through the real msal code."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from graph import token_provider
from graph.errors import GraphAuthError
from graph.token_provider import GRAPH_DEFAULT_SCOPE, TokenProvider

from harness.fake_token_service import FakeTokenService

APP_ID = "11111111-2222-3333-4444-555555555555"
SECRET = "right-secret"


@pytest.fixture
def http_client(fake_token_service: FakeTokenService) -> Iterator[requests.Session]:
    # trust_env is off in this session, so REQUESTS_CA_BUNDLE/proxies cannot interfere.
    session = fake_token_service.msal_http_client()
    yield session
    session.close()


def provider(
    service: FakeTokenService,
    http_client: requests.Session,
    *,
    client_id: str = APP_ID,
    secret: str = SECRET,
) -> TokenProvider:
    return TokenProvider(
        client_id,
        secret,
        service.authority(),
        http_client=http_client,
        instance_discovery=False,
    )


async def test_real_msal_gets_a_token_and_serves_the_second_from_its_cache(
    fake_token_service: FakeTokenService, http_client: requests.Session
) -> None:
    fake_token_service.add_client(APP_ID, SECRET, access_token="graph-token-1")
    tokens = provider(fake_token_service, http_client)

    first = await tokens.token()
    second = await tokens.token()

    assert first == second == "graph-token-1"
    assert fake_token_service.token_request_count == 1
    request = next(r for r in fake_token_service.requests if r.path.endswith("/token"))
    assert request.body["grant_type"] == "client_credentials"
    assert request.body["scope"] == GRAPH_DEFAULT_SCOPE
    # Discovery went to the fake's tenant document, not to login.microsoftonline.com.
    assert any(
        r.path.endswith("/v2.0/.well-known/openid-configuration")
        for r in fake_token_service.requests
    )


async def test_force_refresh_asks_the_identity_platform_again(
    fake_token_service: FakeTokenService, http_client: requests.Session
) -> None:
    fake_token_service.add_client(APP_ID, SECRET)  # a fresh random token per request
    tokens = provider(fake_token_service, http_client)

    first = await tokens.token()
    refreshed = await tokens.token(force_refresh=True)
    after = await tokens.token()

    assert refreshed != first
    assert after == refreshed
    assert fake_token_service.token_request_count == 2
    assert fake_token_service.issued_tokens == [first, refreshed]


async def test_a_wrong_secret_names_microsoft_app_password(
    fake_token_service: FakeTokenService, http_client: requests.Session
) -> None:
    fake_token_service.add_client(APP_ID, SECRET)
    tokens = provider(fake_token_service, http_client, secret="wrong-secret")

    with pytest.raises(GraphAuthError) as caught:
        await tokens.token()

    assert caught.value.error == "invalid_client"
    assert "AADSTS7000215" in caught.value.error_description
    assert "MicrosoftAppPassword" in caught.value.hint
    assert "MicrosoftAppPassword" in str(caught.value)
    assert SECRET not in str(caught.value) and "wrong-secret" not in str(caught.value)


async def test_an_unknown_client_names_microsoft_app_id(
    fake_token_service: FakeTokenService, http_client: requests.Session
) -> None:
    tokens = provider(fake_token_service, http_client, client_id="not-registered")

    with pytest.raises(GraphAuthError) as caught:
        await tokens.token()

    assert caught.value.error == "unauthorized_client"
    assert "MicrosoftAppId" in str(caught.value)
    assert "MicrosoftAppTenantId" in str(caught.value)


async def test_an_authority_without_discovery_names_the_tenant(
    fake_token_service: FakeTokenService, http_client: requests.Session
) -> None:
    # What an unknown tenant looks like to msal: its discovery document is not there.
    tokens = TokenProvider(
        APP_ID,
        SECRET,
        fake_token_service.url + "no/such/tenant",
        http_client=http_client,
        instance_discovery=False,
    )

    with pytest.raises(GraphAuthError) as caught:
        await tokens.token()

    assert caught.value.error == "invalid_authority"
    assert "MicrosoftAppTenantId" in str(caught.value)


async def test_a_token_service_that_never_answers_fails_the_call_instead_of_holding_it(
    fake_token_service: FakeTokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """msal's own session (no http_client given, as in production) gets a timeout: without one
    requests waits forever, and the outbox step (and the bot's shutdown) with it."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    monkeypatch.setattr(token_provider, "TOKEN_TIMEOUT_SECONDS", 0.5)
    fake_token_service.add_client(APP_ID, SECRET, access_token="graph-token-1")
    fake_token_service.delay_next(5.0, 4, path_contains="openid-configuration")
    tokens = TokenProvider(APP_ID, SECRET, fake_token_service.authority(), instance_discovery=False)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.RequestException):
        await tokens.token()
    assert time.monotonic() - started < 4.0
