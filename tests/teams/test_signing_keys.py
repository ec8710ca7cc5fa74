"""The keys that sign Teams' requests: fetched off the event loop, kept fresh in the background,
and fetched again at most once per interval for tokens naming keys nobody published. Over real
HTTP, against the fake's OpenID metadata and JWKS; the SDK's validation checks every token."""

from __future__ import annotations

import asyncio
import functools
import time
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import FakeClock, RunningBot, StartBot
from harness import activities
from harness.fake_connector import FakeConnector
from harness.fake_token_service import ENDORSED_KID, FakeTokenService
from harness.ids import DEFAULT_TENANT_ID
from harness.server import RecordedRequest

APP_ID, SECRET = "bot-app-id", "bot-secret"
ROTATED_KID = "harness-rotated-key"
# How slow the fake's key endpoints are made, and how much sooner other requests must be
# answered to show they did not wait for them.
SLOW_SECONDS = 2.0
PROMPT_SECONDS = 1.0
# The background refresh really waits (a fraction of a second) between its fetches.
REFRESH_SECONDS = 0.3
# The refetch interval is measured on the bot's injected clock, which these tests move.
REFETCH = timedelta(minutes=5)


@pytest.fixture
def tokens(fake_token_service: FakeTokenService, monkeypatch: pytest.MonkeyPatch) -> Any:
    # The bot's aiohttp client and msal's requests both trust the test CA this way.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    fake_token_service.add_client(APP_ID, SECRET)
    return fake_token_service


async def start(
    start_bot: StartBot, tokens: FakeTokenService, clock: FakeClock | None = None, **settings: Any
) -> RunningBot:
    return await start_bot(
        clock,
        MicrosoftAppId=APP_ID,
        MicrosoftAppTenantId=DEFAULT_TENANT_ID,
        MicrosoftAppPassword=SECRET,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=tokens.openid_metadata_url,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=tokens.authority(),
        **settings,
    )


@functools.cache
def _stranger_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _claims(service_url: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "serviceurl": service_url,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
    }


async def say_help(bot: RunningBot, service_url: str, token: str) -> int:
    incoming = activities.personal_message("help", service_url=service_url)
    response = await bot.post_activity(incoming, headers={"Authorization": f"Bearer {token}"})
    return response.status


def signed(tokens: FakeTokenService, service_url: str, kid: str = ENDORSED_KID) -> str:
    return tokens.issue_token(_claims(service_url), kid)


def forged(service_url: str, kid: str) -> str:
    """A token naming ``kid`` but signed by a key nobody published."""
    return jwt.encode(_claims(service_url), _stranger_key(), "RS256", headers={"kid": kid})


def _is_jwks(request: RecordedRequest) -> bool:
    return request.path == "/v1/.well-known/keys"


async def keys_fetched(tokens: FakeTokenService, count: int = 1) -> None:
    await tokens.wait_for(_is_jwks, count=count, description="a JWKS fetch")


async def healthz_seconds(bot: RunningBot) -> float:
    started = time.monotonic()
    status, _ = await bot.get("/healthz")
    assert status == 200
    return time.monotonic() - started


async def test_the_keys_are_fetched_as_the_bot_starts_and_serve_every_token(
    start_bot: StartBot, tokens: FakeTokenService, fake_connector: FakeConnector
) -> None:
    bot = await start(start_bot, tokens)
    await keys_fetched(tokens)  # no request has come in yet

    for _ in range(3):
        assert await say_help(bot, fake_connector.url, signed(tokens, fake_connector.url)) == 201
    await fake_connector.wait_for_activities(3)
    assert tokens.jwks_request_count == 1


async def test_a_flood_of_unknown_key_ids_fetches_the_keys_once_and_is_refused(
    start_bot: StartBot, tokens: FakeTokenService, fake_connector: FakeConnector
) -> None:
    clock = FakeClock()
    bot = await start(start_bot, tokens, clock, SIGNING_KEYS_REFETCH_SECONDS=REFETCH.seconds)
    await keys_fetched(tokens)
    clock.advance(REFETCH)  # past the interval: an unknown key may fetch again

    async def wave(name: str) -> list[int]:
        posts = (
            say_help(bot, fake_connector.url, forged(fake_connector.url, f"{name}-{n}"))
            for n in range(50)
        )
        return list(await asyncio.gather(*posts))

    assert await wave("forged") == [401] * 50
    assert tokens.jwks_request_count == 2
    # Right after, within the interval: refused without any fetch at all.
    assert await wave("again") == [401] * 50
    assert tokens.jwks_request_count == 2
    assert fake_connector.requests == []


async def test_while_the_keys_are_slow_to_come_other_requests_are_served(
    start_bot: StartBot, tokens: FakeTokenService, fake_connector: FakeConnector
) -> None:
    clock = FakeClock()
    bot = await start(start_bot, tokens, clock, SIGNING_KEYS_REFETCH_SECONDS=REFETCH.seconds)
    await keys_fetched(tokens)
    clock.advance(REFETCH)
    tokens.delay_next(SLOW_SECONDS, path_contains="/v1/.well-known/")

    started = time.monotonic()
    refetching = asyncio.create_task(
        say_help(bot, fake_connector.url, forged(fake_connector.url, "made-up"))
    )
    await tokens.wait_for_held(1)
    assert await healthz_seconds(bot) < PROMPT_SECONDS
    # A valid token is checked against the keys in hand, and the turn runs.
    assert await say_help(bot, fake_connector.url, signed(tokens, fake_connector.url)) == 201
    # Another unknown key id neither waits for the fetch under way nor starts one.
    assert await say_help(bot, fake_connector.url, forged(fake_connector.url, "other")) == 401
    assert time.monotonic() - started < PROMPT_SECONDS
    assert not refetching.done()

    assert await refetching == 401
    assert tokens.jwks_request_count == 2
    [reply] = await fake_connector.wait_for_activities(1)
    assert "What I can do" in reply["text"]


async def test_a_token_arriving_during_the_first_fetch_waits_for_it_alone(
    start_bot: StartBot, tokens: FakeTokenService, fake_connector: FakeConnector
) -> None:
    tokens.delay_next(SLOW_SECONDS, path_contains="/v1/.well-known/openidconfiguration")
    started = time.monotonic()
    bot = await start(start_bot, tokens)
    await tokens.wait_for_held(1)

    first = asyncio.create_task(
        say_help(bot, fake_connector.url, signed(tokens, fake_connector.url))
    )
    assert await healthz_seconds(bot) < PROMPT_SECONDS
    assert time.monotonic() - started < PROMPT_SECONDS
    assert not first.done()

    assert await first == 201
    assert tokens.jwks_request_count == 1


async def test_a_key_rotated_in_is_accepted_after_one_refetch(
    start_bot: StartBot, tokens: FakeTokenService, fake_connector: FakeConnector
) -> None:
    clock = FakeClock()
    bot = await start(start_bot, tokens, clock, SIGNING_KEYS_REFETCH_SECONDS=REFETCH.seconds)
    await keys_fetched(tokens)
    tokens.publish_key(ROTATED_KID)
    token = signed(tokens, fake_connector.url, ROTATED_KID)

    # The keys were fetched a moment ago: the new key id waits for the interval, refused.
    assert await say_help(bot, fake_connector.url, token) == 401
    assert tokens.jwks_request_count == 1
    clock.advance(REFETCH)
    assert await say_help(bot, fake_connector.url, token) == 201
    assert await say_help(bot, fake_connector.url, token) == 201
    assert tokens.jwks_request_count == 2
    await fake_connector.wait_for_activities(2)


async def test_the_background_refresh_picks_up_a_new_key_and_drops_a_retired_one(
    start_bot: StartBot, tokens: FakeTokenService, fake_connector: FakeConnector
) -> None:
    # Unknown key ids may not fetch at all here: only the background refresh can.
    bot = await start(
        start_bot,
        tokens,
        SIGNING_KEYS_REFRESH_SECONDS=REFRESH_SECONDS,
        SIGNING_KEYS_REFETCH_SECONDS=3600,
    )
    await keys_fetched(tokens)
    assert await say_help(bot, fake_connector.url, signed(tokens, fake_connector.url)) == 201
    tokens.publish_key(ROTATED_KID)
    tokens.retire_key(ENDORSED_KID)
    # A fetch that started after the bot took in the one that saw the change.
    await keys_fetched(tokens, count=3)

    rotated = signed(tokens, fake_connector.url, ROTATED_KID)
    assert await say_help(bot, fake_connector.url, rotated) == 201
    retired = signed(tokens, fake_connector.url, ENDORSED_KID)
    assert await say_help(bot, fake_connector.url, retired) == 401
    await fake_connector.wait_for_activities(2)


async def test_keys_that_cannot_be_fetched_refuse_every_token_until_they_can(
    start_bot: StartBot, tokens: FakeTokenService, fake_connector: FakeConnector
) -> None:
    tokens.fail_next(503, path_contains="/v1/.well-known/openidconfiguration")
    clock = FakeClock()
    bot = await start(start_bot, tokens, clock, SIGNING_KEYS_REFETCH_SECONDS=REFETCH.seconds)
    await tokens.wait_for(lambda r: r.status == 503, description="the failed metadata fetch")

    token = signed(tokens, fake_connector.url)
    assert await say_help(bot, fake_connector.url, token) == 401
    assert tokens.jwks_request_count == 0
    clock.advance(REFETCH)
    assert await say_help(bot, fake_connector.url, token) == 201
    assert tokens.jwks_request_count == 1


async def test_a_failed_refresh_keeps_the_keys_in_hand(
    start_bot: StartBot, tokens: FakeTokenService, fake_connector: FakeConnector
) -> None:
    bot = await start(start_bot, tokens, SIGNING_KEYS_REFRESH_SECONDS=REFRESH_SECONDS)
    await keys_fetched(tokens)
    tokens.fail_next(503, count=100, path_contains="/v1/.well-known/keys")
    await tokens.wait_for(lambda r: _is_jwks(r) and r.status == 503, description="a failed refresh")

    assert await say_help(bot, fake_connector.url, signed(tokens, fake_connector.url)) == 201
    await fake_connector.wait_for_activities(1)
