"""ManagedIdentityTokens: the real msal.ManagedIdentityClient against a local fake of Azure
Container Apps' identity endpoint, with the provider's clock injected."""

from __future__ import annotations

import asyncio
import logging

import pytest
import requests

from graph.errors import GraphAuthError
from graph.managed_identity import BOT_CONNECTOR_RESOURCE, GRAPH_RESOURCE, ManagedIdentityTokens

from conftest import free_port
from harness.fake_managed_identity import API_VERSION, FakeManagedIdentity

CLIENT_ID = "6c1f0a52-3b7d-4e8a-9f21-0d4c5b6a7e81"
LIFETIME = 3600
# The provider renews a token this long before it expires (graph/token_provider.py).
RENEW_BEFORE = 300


class Seconds:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def identity(
    fake_managed_identity: FakeManagedIdentity, monkeypatch: pytest.MonkeyPatch
) -> FakeManagedIdentity:
    """The endpoint as Azure Container Apps sets it in the container's environment."""
    for name in ("IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", fake_managed_identity.endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", fake_managed_identity.header)
    fake_managed_identity.lifetime = LIFETIME
    return fake_managed_identity


async def test_a_token_is_asked_once_as_azure_expects_and_again_when_it_is_due(
    identity: FakeManagedIdentity,
) -> None:
    identity.assign(CLIENT_ID)
    seconds = Seconds()
    tokens = ManagedIdentityTokens(CLIENT_ID, GRAPH_RESOURCE, seconds=seconds)

    first = [await tokens.token() for _ in range(5)]
    seconds.now += LIFETIME - RENEW_BEFORE - 1
    still = await tokens.token()
    assert len(identity.token_requests()) == 1
    seconds.now += 2  # past the renewal point: msal's own cache must not answer for it
    renewed = await tokens.token()

    [one, two] = identity.issued_for(GRAPH_RESOURCE)
    assert first == [one] * 5 and still == one and renewed == two != one
    [request, _] = identity.token_requests()
    assert request.query == {
        "api-version": API_VERSION,
        "resource": GRAPH_RESOURCE,
        "client_id": CLIENT_ID,
    }
    assert request.headers["X-IDENTITY-HEADER"] == identity.header


async def test_a_refused_token_is_asked_again_and_a_scope_names_its_resource(
    identity: FakeManagedIdentity,
) -> None:
    identity.assign(CLIENT_ID)
    tokens = ManagedIdentityTokens(CLIENT_ID, BOT_CONNECTOR_RESOURCE + "/.default")

    first = await tokens.token()
    refreshed = await tokens.token(force_refresh=True)

    assert [first, refreshed] == identity.issued_for(BOT_CONNECTOR_RESOURCE)
    assert first != refreshed
    assert await tokens.token() == refreshed


async def test_concurrent_callers_on_a_cold_cache_share_one_request(
    identity: FakeManagedIdentity,
) -> None:
    identity.assign(CLIENT_ID)
    tokens = ManagedIdentityTokens(CLIENT_ID, GRAPH_RESOURCE)

    got = await asyncio.gather(*(tokens.token() for _ in range(8)))

    assert len(set(got)) == 1
    assert len(identity.token_requests()) == 1


async def test_a_token_issued_already_expired_is_not_reused(identity: FakeManagedIdentity) -> None:
    identity.assign(CLIENT_ID)
    identity.lifetime = -60
    tokens = ManagedIdentityTokens(CLIENT_ID, GRAPH_RESOURCE)

    await tokens.token()
    await tokens.token()

    assert len(identity.token_requests()) == 2


async def test_an_identity_not_assigned_to_the_app_names_what_to_check(
    identity: FakeManagedIdentity,
) -> None:
    tokens = ManagedIdentityTokens(CLIENT_ID, GRAPH_RESOURCE)  # nothing assigned

    with pytest.raises(GraphAuthError) as caught:
        await tokens.token()

    said = str(caught.value)
    assert "Unable to load the proper Managed Identity" in caught.value.error_description
    assert said.startswith("Could not get a Graph token")
    assert f"MicrosoftAppId ({CLIENT_ID})" in said
    assert "assigned to this container app" in said
    assert "client id, not its object (principal) id" in said
    assert f"IDENTITY_ENDPOINT ({identity.endpoint})" in said
    [request] = identity.token_requests()
    assert request.status == 400


async def test_a_wrong_identity_header_is_refused_and_named_the_same_way(
    identity: FakeManagedIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity.assign(CLIENT_ID)
    monkeypatch.setenv("IDENTITY_HEADER", "not-the-header")
    tokens = ManagedIdentityTokens(CLIENT_ID, BOT_CONNECTOR_RESOURCE, purpose="Bot Connector")

    with pytest.raises(GraphAuthError) as caught:
        await tokens.token()

    assert str(caught.value).startswith("Could not get a Bot Connector token")
    assert caught.value.error_description.startswith("401")
    assert "MicrosoftAppId" in caught.value.hint
    assert identity.issued == []


async def test_without_an_identity_endpoint_an_unreachable_one_is_logged_with_the_hint(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # No IDENTITY_ENDPOINT: msal asks the instance metadata service, here a closed loopback
    # port (msal reads AZURE_POD_IDENTITY_AUTHORITY_HOST in place of 169.254.169.254).
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "IMDS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", f"http://127.0.0.1:{free_port()}")
    tokens = ManagedIdentityTokens(CLIENT_ID, GRAPH_RESOURCE)

    with caplog.at_level(logging.WARNING), pytest.raises(requests.ConnectionError):
        await tokens.token()

    unreachable = "managed identity endpoint unreachable"
    [warning] = [r for r in caplog.records if r.getMessage() == unreachable]
    hint = str(getattr(warning, "hint", ""))
    assert "instance metadata service" in hint
    assert "no managed identity is assigned to the app" in hint
    assert getattr(warning, "client_id", "") == CLIENT_ID
