"""With MicrosoftAppId set: the SDK's own token validation against a local OpenID metadata and
JWKS server, and the bot's own tokens from msal against a local HTTPS token endpoint."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
import trustme
from botframework.connector.auth import JwtTokenExtractor
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import RunningBot, StartBot
from harness import activities
from harness.fake_connector import FakeConnector
from harness.fake_token_service import ENDORSED_KID, UNENDORSED_KID, FakeTokenService
from harness.ids import DEFAULT_TENANT_ID
from harness.sqlite_rows import rows_written

APP_ID, SECRET = "bot-app-id", "bot-secret"
# The issuer of tokens from the Azure AD tenant the Bot Framework Emulator signs in with.
EMULATOR_ISSUER = "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"
# msal counts a token with less than five minutes left as expired.
MSAL_EXPIRY_MARGIN_SECONDS = 300


@pytest.fixture
def trust_fakes(
    fake_token_service: FakeTokenService, monkeypatch: pytest.MonkeyPatch
) -> FakeTokenService:
    # The bot fetches the keys over aiohttp and msal uses its own requests session: both
    # trust the test CA through the environment. Every test starts with no cached keys.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake_token_service.ca_file))
    monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
    fake_token_service.add_client(APP_ID, SECRET)
    return fake_token_service


async def start_authenticated(start_bot: StartBot, tokens: FakeTokenService) -> RunningBot:
    return await start_bot(
        MicrosoftAppId=APP_ID,
        MicrosoftAppTenantId=DEFAULT_TENANT_ID,
        MicrosoftAppPassword=SECRET,
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=tokens.openid_metadata_url,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=tokens.authority(),
    )


def _stranger_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _claims(service_url: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": "https://api.botframework.com",
        "aud": APP_ID,
        "serviceurl": service_url,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        **overrides,
    }


# Each case: a header for the activity sent to service_url, from the fake token service.
HeaderFor = Callable[[FakeTokenService, str], str | None]
# Past the SDK's five minutes of clock tolerance.
LATE = 10 * 60


def _issued(kid: str = ENDORSED_KID, without: tuple[str, ...] = (), **overrides: Any) -> HeaderFor:
    return lambda tokens, url: (
        "Bearer " + tokens.issue_token(_claims(url, **overrides), kid, without=without)
    )


def _signed(key: Any, algorithm: str, kid: str | None = ENDORSED_KID) -> HeaderFor:
    headers = {"kid": kid} if kid else {}
    return lambda _tokens, url: (
        "Bearer " + jwt.encode(_claims(url), key, algorithm=algorithm, headers=headers)
    )


REFUSED: dict[str, tuple[HeaderFor, dict[str, Any]]] = {
    "no header": (lambda _t, _u: None, {}),
    "wrong scheme": (lambda _t, _u: "Basic Ym90LWFwcC1pZDpib3Qtc2VjcmV0", {}),
    "garbage token": (lambda _t, _u: "Bearer not-a-token", {}),
    "three garbage parts": (lambda _t, _u: "Bearer a.b.c", {}),
    "bearer without token": (lambda _t, _u: "Bearer ", {}),
    "wrong audience": (_issued(aud="another-bot"), {}),
    "no audience": (_issued(aud=None), {}),
    "wrong issuer": (_issued(iss="https://login.evil.example"), {}),
    # The SDK would take this one down its Emulator path, which checks no serviceurl and
    # fetches keys from the public cloud (the network guard would fail the test).
    "emulator issuer": (_issued(iss=EMULATOR_ISSUER, appid=APP_ID, ver="1.0"), {}),
    "expired": (
        _issued(iat=int(time.time()) - 2 * 3600, nbf=int(time.time()) - 2 * 3600, exp=0),
        {},
    ),
    "not yet valid": (_issued(nbf=int(time.time()) + LATE), {}),
    # PyJWT checks exp only when the token has one: without it, a token would never expire.
    "no expiry": (_issued(without=("exp",)), {}),
    # PyJWT reads the times with int(), which takes text (and True) as well as numbers.
    "expiry as text": (_issued(exp=str(int(time.time()) + 3600)), {}),
    "expiry as true": (_issued(exp=True), {}),
    "expiry null": (_issued(exp=None), {}),
    "not-before as text": (_issued(nbf=str(int(time.time()))), {}),
    "issued-at as text": (_issued(iat=str(int(time.time()))), {}),
    "issued in the future": (_issued(iat=int(time.time()) + LATE), {}),
    "wrong signing key": (_signed(_stranger_key(), "RS256"), {}),
    "unknown key id": (_signed(_stranger_key(), "RS256", kid="no-such-key"), {}),
    "no key id": (_signed(_stranger_key(), "RS256", kid=None), {}),
    "HS256": (_signed("the-bot-client-secret-used-as-an-hmac-key", "HS256"), {}),
    "none algorithm": (_signed(None, "none"), {}),
    "key not endorsed for msteams": (_issued(UNENDORSED_KID), {}),
    # A Web Chat key stays refused when the activity claims to come from Web Chat, or from
    # no channel at all: only Teams talks to this bot.
    "webchat key, webchat activity": (_issued(UNENDORSED_KID), {"channelId": "webchat"}),
    "webchat key, no channel": (_issued(UNENDORSED_KID), {"channelId": ""}),
    "serviceurl of another host": (_issued(serviceurl="https://smba.evil.example/"), {}),
    "no serviceurl": (_issued(serviceurl=None), {}),
}


@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_request_without_a_valid_token_is_refused_and_changes_nothing(
    start_bot: StartBot,
    trust_fakes: FakeTokenService,
    fake_connector: FakeConnector,
    sqlite_url: str,
    case: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    header_for, overrides = REFUSED[case]
    bot = await start_authenticated(start_bot, trust_fakes)
    incoming = activities.personal_message(
        "handoff 123456789", service_url=fake_connector.url, overrides=overrides
    )
    header = header_for(trust_fakes, fake_connector.url)
    response = await bot.post_activity(
        incoming, headers={"Authorization": header} if header else {}
    )
    assert response.status in (401, 403)
    assert (await response.json())["error"]
    assert fake_connector.requests == []
    assert await asyncio.to_thread(rows_written, sqlite_url) == {}
    assert [r for r in caplog.records if r.getMessage() == "request refused"]


async def test_a_valid_token_is_accepted_and_the_reply_carries_the_bots_own_token(
    start_bot: StartBot, trust_fakes: FakeTokenService, fake_connector: FakeConnector
) -> None:
    bot = await start_authenticated(start_bot, trust_fakes)
    incoming = activities.personal_message("help", service_url=fake_connector.url)
    header = _issued()(trust_fakes, fake_connector.url)
    response = await bot.post_activity(incoming, headers={"Authorization": header or ""})
    assert response.status in (200, 201)
    [reply] = await fake_connector.wait_for_activities(1)
    assert "What I can do" in reply["text"]
    [token] = trust_fakes.issued_tokens
    [record] = fake_connector.activity_records()
    assert record.headers["Authorization"] == f"Bearer {token}"


async def test_a_token_without_expiry_is_refused_and_the_log_says_why(
    start_bot: StartBot,
    trust_fakes: FakeTokenService,
    fake_connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await start_authenticated(start_bot, trust_fakes)
    incoming = activities.personal_message("help", service_url=fake_connector.url)
    header = _issued(without=("exp",))(trust_fakes, fake_connector.url) or ""
    response = await bot.post_activity(incoming, headers={"Authorization": header})
    assert response.status == 401
    [refusal] = [r for r in caplog.records if r.getMessage() == "request refused"]
    assert "expiry (exp)" in str(getattr(refusal, "reason", ""))
    assert fake_connector.requests == []


async def test_token_times_within_the_clock_skew_are_accepted(
    start_bot: StartBot, trust_fakes: FakeTokenService, fake_connector: FakeConnector
) -> None:
    bot = await start_authenticated(start_bot, trust_fakes)
    now = time.time()
    # A minute ahead (the SDK allows five) and a NumericDate with a fraction, as RFC 7519 may.
    header = _issued(iat=int(now) + 60, nbf=int(now) + 60, exp=now + 3600.5)
    incoming = activities.personal_message("help", service_url=fake_connector.url)
    response = await bot.post_activity(
        incoming, headers={"Authorization": header(trust_fakes, fake_connector.url) or ""}
    )
    assert response.status in (200, 201)
    await fake_connector.wait_for_activities(1)


async def test_a_malformed_activity_is_described_only_to_a_caller_with_a_valid_token(
    start_bot: StartBot,
    trust_fakes: FakeTokenService,
    fake_connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = await start_authenticated(start_bot, trust_fakes)
    valid = _issued()(trust_fakes, fake_connector.url) or ""
    # Entities msrest cannot read, and channel data it would read into a failed turn.
    unreadable = activities.channel_message("help", service_url=fake_connector.url)
    unreadable["entities"] = {"type": "mention"}
    misshapen = activities.channel_message("help", service_url=fake_connector.url)
    misshapen["channelData"]["tenant"] = {"id": 42}
    for activity, named in [(unreadable, "entities"), (misshapen, "channelData.tenant.id")]:
        # A token of sorts, so that the body is read: the answer says nothing of it.
        forged = await bot.post_activity(activity, headers={"Authorization": "Bearer a.b.c"})
        assert forged.status == 401
        assert (await forged.json())["error"].startswith("Unauthorized")
        response = await bot.post_activity(activity, headers={"Authorization": valid})
        assert response.status == 400
        assert (await response.json())["error"].startswith(named)
    assert fake_connector.requests == []
    assert not [r for r in caplog.records if r.getMessage() == "turn failed"]


@pytest.fixture
def short_lived_tokens(tls_ca: trustme.CA, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A token service whose tokens msal serves from its cache for three seconds only."""
    with FakeTokenService(tls_ca, expires_in=MSAL_EXPIRY_MARGIN_SECONDS + 3) as service:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(service.ca_file))
        monkeypatch.setattr(JwtTokenExtractor, "metadataCache", {})
        service.add_client(APP_ID, SECRET)
        yield service


async def test_the_bots_token_is_fetched_once_and_again_after_it_expires(
    start_bot: StartBot, short_lived_tokens: FakeTokenService, fake_connector: FakeConnector
) -> None:
    tokens = short_lived_tokens
    bot = await start_authenticated(start_bot, tokens)

    async def say_help(count: int) -> None:
        for _ in range(count):
            incoming = activities.personal_message("help", service_url=fake_connector.url)
            header = _issued()(tokens, fake_connector.url) or ""
            response = await bot.post_activity(incoming, headers={"Authorization": header})
            assert response.status in (200, 201)

    await say_help(3)
    await fake_connector.wait_for_activities(3)
    issued_by = time.monotonic()
    assert tokens.token_request_count == 1
    first = tokens.issued_tokens[0]
    # msal's own wall clock decides expiry: wait until the token is past its usable life.
    await asyncio.sleep(issued_by + 3.2 - time.monotonic())
    await say_help(2)
    await fake_connector.wait_for_activities(5)
    assert tokens.token_request_count == 2
    second = tokens.issued_tokens[1]
    used = [r.headers["Authorization"] for r in fake_connector.activity_records()]
    assert used == [f"Bearer {first}"] * 3 + [f"Bearer {second}"] * 2
