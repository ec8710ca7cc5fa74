"""The keys that sign what Teams sends the bot, fetched with aiohttp and kept fresh in the
background, in the place where the SDK looks them up.

botbuilder 4.17 checks each token against an ``_OpenIdMetadata`` object it finds by URL in
``JwtTokenExtractor.metadataCache``. Its own fetches the OpenID metadata and the JWKS with the
synchronous ``requests`` on the event loop: once a day, and again (up to hourly) whenever a
token names a key id it does not know, so every request the process serves waits for that
round trip, and tokens with made-up key ids ask for it. :class:`SigningKeys` takes that
object's place for the channel's metadata URL. The SDK's validation (issuer, audience,
endorsements, serviceurl, expiry, signature) still checks every token; only where the keys
come from changes:

- they are fetched over aiohttp at start-up and every ``refresh_seconds`` after (sooner after
  a failure, keeping the last good keys meanwhile);
- a key id the keys do not list starts at most one fetch per ``refetch_seconds`` for the whole
  process. The request that starts it waits for it, so a key rotated in is accepted on first
  sight; every other token naming an unknown key is refused at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import aiohttp
import jwt
from botframework.connector.auth import JwtTokenExtractor
from botframework.connector.auth.jwt_token_extractor import _OpenIdConfig, _OpenIdMetadata
from jwt.algorithms import RSAAlgorithm

from teams.connector_client import client_ssl_context

log = logging.getLogger(__name__)

# The SDK holds keys for a day; refreshing at half that keeps them fresh with a day's margin
# for a refresh that fails.
DEFAULT_REFRESH_SECONDS = 12 * 3600.0
DEFAULT_REFETCH_SECONDS = 300.0
FETCH_TIMEOUT_SECONDS = 10.0
# After a failed fetch the background tries again this soon; the last good keys stay in use.
RETRY_SECONDS = 60.0
# The documents are a few KB; anything near this is not one of them.
MAX_DOCUMENT_BYTES = 1024 * 1024
# A key id is the caller's text: only this much of it goes into the log.
_LOGGED_KEY_ID_CHARS = 80


class SigningKeyRefused(PermissionError):
    """The token names no key, or one the published keys do not list (yet)."""


class KeysNotFetched(Exception):
    """The metadata or the keys could not be fetched or read; the reason is logged."""


def _read_keys(keys: Any) -> dict[str, _OpenIdConfig]:
    """The usable keys of a JWKS ``keys`` list by key id, parsed once rather than per token."""
    if not isinstance(keys, list):
        raise ValueError("the JWKS has no list of keys")
    configs: dict[str, _OpenIdConfig] = {}
    for jwk in keys:
        kid = jwk.get("kid") if isinstance(jwk, dict) else None
        if not isinstance(kid, str) or not kid:
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))
        except (jwt.PyJWTError, ValueError, KeyError, TypeError) as error:
            # One key of a kind this bot cannot use should not cost it the others.
            log.warning("signing key skipped", extra={"key_id": kid, "error": str(error)})
            continue
        endorsements = jwk.get("endorsements")
        configs[kid] = _OpenIdConfig(
            public_key, endorsements if isinstance(endorsements, list) else []
        )
    if not configs:
        raise ValueError("the JWKS lists no usable key")
    return configs


def _retrieve(task: asyncio.Task[None]) -> None:
    # A fetch nobody awaited any more (its waiter left) has its failure logged already.
    if not task.cancelled():
        task.exception()


class SigningKeys(_OpenIdMetadata):  # type: ignore[misc]
    """The channel's signing keys for the SDK's ``JwtTokenExtractor``; :meth:`start` and
    :meth:`close` bracket the application's life."""

    def __init__(
        self,
        url: str,
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        refetch_seconds: float = DEFAULT_REFETCH_SECONDS,
        seconds: Callable[[], float] = time.monotonic,
    ) -> None:
        """`seconds`: the clock the refetch interval is measured by (tests move it)."""
        super().__init__(url)
        self._seconds = seconds
        self._refresh_seconds = refresh_seconds
        self._refetch_seconds = refetch_seconds
        self._configs: Mapping[str, _OpenIdConfig] = {}
        self._loaded = False
        self._last_fetch_started = -math.inf
        self._fetching: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Takes the SDK's place for this URL and starts fetching; start-up does not wait for
        the keys (a token that arrives first waits for them instead)."""
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=client_ssl_context()),
            timeout=aiohttp.ClientTimeout(total=FETCH_TIMEOUT_SECONDS),
            headers={"Accept": "application/json"},
        )
        JwtTokenExtractor.metadataCache[self.url] = self
        self._keeper = asyncio.create_task(self._keep_fresh(), name="signing keys refresh")

    async def close(self) -> None:
        if JwtTokenExtractor.metadataCache.get(self.url) is self:
            del JwtTokenExtractor.metadataCache[self.url]
        tasks = [task for task in (self._keeper, self._fetching) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- what the SDK calls ------------------------------------------------------------

    async def get(self, key_id: object) -> _OpenIdConfig:
        """The key the token names, for the SDK to check its signature and endorsements."""
        # The key id comes from the token's unverified header: any JSON at all.
        if not isinstance(key_id, str) or not key_id:
            raise SigningKeyRefused("The token names no signing key.")
        config = self._configs.get(key_id)
        if config is not None:
            return config
        fetch = self._fetch_for_unknown(key_id)
        if fetch is not None:
            # Shielded: a caller that gives up does not cancel the fetch others rely on.
            with contextlib.suppress(KeysNotFetched):  # logged where it failed
                await asyncio.shield(fetch)
            config = self._configs.get(key_id)
            if config is not None:
                return config
        raise SigningKeyRefused("The token names a signing key the published keys do not list.")

    async def _refresh(self) -> None:
        # The SDK's own refresh is synchronous requests; any path of it that gets here waits
        # for ours instead.
        await asyncio.shield(self._start_fetch())

    def _find(self, key_id: str) -> _OpenIdConfig | None:
        return self._configs.get(key_id)

    # -- fetching ----------------------------------------------------------------------

    def _fetch_for_unknown(self, key_id: str) -> asyncio.Task[None] | None:
        """The fetch a request for an unknown key should wait for, or None: refuse now."""
        in_flight = self._fetching is not None and not self._fetching.done()
        if not self._loaded and in_flight:
            # Start-up: no key is known yet, so every token waits for the first fetch.
            return self._fetching
        if in_flight or self._seconds() - self._last_fetch_started < self._refetch_seconds:
            return None
        log.info(
            "unknown signing key: fetching the keys again",
            extra={"url": self.url, "key_id": key_id[:_LOGGED_KEY_ID_CHARS]},
        )
        return self._start_fetch()

    def _start_fetch(self) -> asyncio.Task[None]:
        """The fetch under way, or a new one: never two at once."""
        if self._fetching is None or self._fetching.done():
            self._last_fetch_started = self._seconds()
            self._fetching = asyncio.create_task(self._fetch(), name="signing keys fetch")
            self._fetching.add_done_callback(_retrieve)
        return self._fetching

    async def _keep_fresh(self) -> None:
        while True:
            try:
                await self._start_fetch()
                delay = self._refresh_seconds
            except KeysNotFetched:
                delay = min(RETRY_SECONDS, self._refresh_seconds)
            except Exception:
                # A bug in a fetch must not end the refreshing for the life of the process.
                log.exception("signing keys refresh failed", extra={"url": self.url})
                delay = min(RETRY_SECONDS, self._refresh_seconds)
            await asyncio.sleep(delay)

    async def _fetch(self) -> None:
        try:
            metadata = await self._get_json(self.url)
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
                raise ValueError("the metadata names no https jwks_uri")
            document = await self._get_json(jwks_uri)
            keys = document.get("keys") if isinstance(document, dict) else None
            configs = _read_keys(keys)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.warning(
                "signing keys not fetched",
                extra={
                    "url": self.url,
                    "error": f"{type(error).__name__}: {error}",
                    "keys_kept": len(self._configs),
                },
            )
            raise KeysNotFetched(str(error)) from error
        self._configs = configs
        self._loaded = True
        # The SDK's own attributes, for anything that reads them.
        self.keys = keys
        self.last_updated = datetime.now()
        log.info("signing keys fetched", extra={"url": self.url, "key_ids": sorted(configs)})

    async def _get_json(self, url: str) -> Any:
        if self._session is None:
            raise RuntimeError("SigningKeys.start was not called")
        async with self._session.get(url) as response:
            response.raise_for_status()
            body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise ValueError(f"the answer from {url} is larger than {MAX_DOCUMENT_BYTES} bytes")
        return json.loads(body)
