"""POST /api/messages: checks the request, authenticates it, and runs the turn."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

import aiohttp
import jwt
from aiohttp import web
from botbuilder.core import Bot, InvokeResponse, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ChannelAccount
from botframework.connector.auth import AuthenticationConstants

from handoff.turn_ids import new_turn
from storage.errors import StorageUnavailable
from storage.sql_store import SqlStore
from teams.activity_checks import activity_problem, schema_problem
from teams.activity_codec import read_activity
from teams.deliveries import DeliveryInProgress
from teams.json_body import JsonRefused, decode_json_text, parse_json

log = logging.getLogger(__name__)

# A Teams activity is a few KB; the largest (a card submit with long notes) stays far below.
MAX_BODY_BYTES = 256 * 1024


TEAMS_CHANNEL = "msteams"
# How far a token's times may be off the bot's clock: what the SDK allows (its VerifyOptions
# for channel tokens), so that the checks here refuse nothing the SDK would accept for time.
CLOCK_SKEW_SECONDS = 5 * 60
_TOO_LARGE = f"The activity is larger than {MAX_BODY_BYTES} bytes."
_UNAUTHORIZED = "Unauthorized: a valid Bot Framework token is required."


def _refuse(status: int, message: str, reason: str, **context: object) -> web.Response:
    # Every refusal leaves a line in the log, so an attack or a misconfigured channel shows.
    log.warning("request refused", extra={"status": status, "reason": reason, **context})
    return web.json_response({"error": message}, status=status)


async def _refuse_unread(
    request: web.Request, status: int, message: str, reason: str, **context: object
) -> web.StreamResponse:
    """A refusal of a body the bot will not read, then the connection closes: otherwise
    aiohttp reads the rest itself (up to ten seconds for a large one, holding the connection;
    failing with a traceback on a compressed one that does not inflate)."""
    response = _refuse(status, message, reason, **context)
    response.force_close()  # "Connection: close", so that the client does not reuse it
    await response.prepare(request)
    await response.write_eof()
    request.protocol.force_close()
    return response


async def _refuse_too_large(request: web.Request, **context: object) -> web.StreamResponse:
    return await _refuse_unread(request, 413, _TOO_LARGE, "too large", **context)


async def _read_json_object(
    request: web.Request,
) -> tuple[str, dict[str, Any]] | web.StreamResponse:
    """The body as JSON text and the object parsed from it, or the refusal to answer with."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        return await _refuse_too_large(request, length=request.content_length)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return await _refuse_too_large(request)
    except ConnectionResetError:
        # The sender hung up before its body was in: nobody hears this answer, and it is no
        # error of the bot's (aiohttp would log a traceback; anyone could flood the log).
        return _refuse(400, "The body did not arrive whole.", "connection lost")
    try:
        text = decode_json_text(raw)
        body = parse_json(text)
    except JsonRefused as refused:
        return _refuse(400, refused.message, refused.reason)
    if not isinstance(body, dict):
        return _refuse(400, "The body must be a JSON object (an activity).", "not an object")
    return text, body


def _invoke_body(response: InvokeResponse) -> Any:
    body = response.body
    # The SDK serializes msrest models itself but chokes on plain dicts (design.md's invoke 500).
    return body if isinstance(body, dict | list | str | None) else serializer_helper(body)


def _stand_in(body: dict[str, Any]) -> Activity:
    """What authentication reads of an activity msrest cannot read: the channel, the service
    URL (which the token's serviceurl claim must name) and the recipient's role."""

    def text(name: str) -> str | None:
        value = body.get(name)
        return value if isinstance(value, str) else None

    return Activity(
        id=text("id"),
        channel_id=text("channelId"),
        service_url=text("serviceUrl"),
        recipient=ChannelAccount(),
    )


def token_problem(auth_header: str) -> str | None:
    """Why the header cannot carry a token from the Bot Framework channel service, judged before
    the SDK looks at it; None when it may. The SDK would send a token of another issuer down
    its emulator or skill paths, which check neither the serviceurl claim nor endorsements,
    and neither kind of caller talks to this bot."""
    scheme, _, token = auth_header.partition(" ")
    if scheme != "Bearer" or not token:
        return "not a bearer token"
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "not a JWT"
    if claims.get("iss") != AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER:
        return "not issued by the Bot Framework channel service"
    return token_times_problem(claims, time.time())


def _is_numeric_date(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def token_times_problem(claims: dict[str, Any], now: float) -> str | None:
    """What is wrong with the token's times, or None. The SDK has PyJWT check exp only when the
    token has one (a token without would never expire), and PyJWT reads each time with int(),
    which takes "1700000000" or true as well; RFC 7519 wants numbers."""
    if not _is_numeric_date(claims.get("exp")):
        return "no numeric expiry (exp) claim"
    for claim in ("nbf", "iat"):
        if claim not in claims:
            continue
        value = claims[claim]
        if not _is_numeric_date(value):
            return f"the {claim} claim is not a number"
        if value > now + CLOCK_SKEW_SECONDS:
            return f"the {claim} claim is in the future"
    return None


# Every key of the application, in one place.
BOT = web.AppKey("bot", Bot)
STORE = web.AppKey("store", SqlStore)
GRAPH_SESSION = web.AppKey("graph_session", aiohttp.ClientSession)
ADAPTER = web.AppKey("adapter", CloudAdapter)
# The activity's type as the request's body gave it, for the turn timer (teams/metrics.py).
ACTIVITY_TYPE = web.RequestKey("activity_type", str)
# Seconds a turn may take before the request is answered 503 (Teams resends after ~15 s).
REQUEST_DEADLINE = web.AppKey("request_deadline", float)
DEFAULT_DEADLINE_SECONDS = 10.0


class MessagesEndpoint:
    """Reads the adapter and the bot from the application, where start-up puts them.

    ``authenticated`` is False only in local mode (no MicrosoftAppId): then no token is asked.
    """

    def __init__(self, *, authenticated: bool) -> None:
        self._authenticated = authenticated

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        with new_turn():
            return await self._handle(request)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        adapter, bot = request.app[ADAPTER], request.app.get(BOT)
        if bot is None:
            return _refuse(503, "The bot is still starting; try again in a moment.", "starting")
        auth_header = request.headers.get("Authorization")
        if self._authenticated and not auth_header:
            # Refused before the body is read: no work for whoever sends no token at all.
            return _refuse(401, _UNAUTHORIZED, "no Authorization header")
        if request.content_type != "application/json":
            return _refuse(415, "Send the activity as application/json.", "content type")
        if request.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
            # Teams sends activities uncompressed; a compressed body that does not inflate
            # makes aiohttp raise while reading it, before the token is checked.
            return await _refuse_unread(
                request, 415, "Send the activity uncompressed.", "content encoding"
            )
        read = await _read_json_object(request)
        if isinstance(read, web.StreamResponse):
            return read
        text, body = read
        if isinstance(body.get("type"), str):
            request[ACTIVITY_TYPE] = body["type"]
        unreadable: str | None = None
        try:
            activity: Activity = read_activity(body)
        except Exception as error:
            # msrest raises whatever a field's type makes it raise; all mean "not an activity",
            # which is said (naming the field where the checks can) after authentication.
            activity, unreadable = _stand_in(body), type(error).__name__
        if not self._authenticated:
            auth_header = None  # local mode: the SDK's anonymous identity
        elif problem := token_problem(auth_header or ""):
            return _refuse(401, _UNAUTHORIZED, problem, activity_id=activity.id)
        try:
            authentication = await adapter.bot_framework_authentication.authenticate_request(
                activity, auth_header
            )
        except Exception as error:
            # Whatever the SDK raises for a bad token (PermissionError, jwt errors, a metadata
            # fetch that fails), the caller is unauthenticated: 401, never 500.
            return _refuse(
                401,
                _UNAUTHORIZED,
                f"{type(error).__name__}: {str(error)[:200]}",
                activity_id=activity.id,
            )

        # After authentication: whoever sends no valid token learns nothing about the rest.
        if problem := activity_problem(body, text):
            return _refuse(400, problem, "malformed activity", activity_id=activity.id)
        if unreadable:
            message = schema_problem(body) or "The body is not a Bot Framework activity."
            return _refuse(400, message, unreadable, activity_id=activity.id)
        deadline = request.app.get(REQUEST_DEADLINE, DEFAULT_DEADLINE_SECONDS)
        try:
            async with asyncio.timeout(deadline):
                response = await adapter.process_activity(authentication, activity, bot.on_turn)
        except DeliveryInProgress as repeat:
            return web.json_response(
                {"error": str(repeat)},
                status=503,
                headers={"Retry-After": str(math.ceil(repeat.retry_after))},
            )
        except TimeoutError:
            # The database or the connector is too slow; whatever the turn wrote was in a
            # transaction that is rolled back, so trying again is safe.
            log.error(
                "turn ran past its deadline",
                extra={"deadline": deadline, "activity_id": activity.id},
            )
            message = "I could not finish that in time; try again in a moment."
            return web.json_response({"error": message}, status=503)
        if response is None:
            return web.Response(status=201)
        return web.json_response(_invoke_body(response), status=response.status)


READINESS_TIMEOUT_SECONDS = 2.0


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    store = request.app.get(STORE)
    if store is None:
        return web.json_response({"status": "starting"}, status=503)
    try:
        async with asyncio.timeout(READINESS_TIMEOUT_SECONDS):
            await store.ping()
    except (StorageUnavailable, TimeoutError) as error:
        reason = str(error) or "the database did not answer in time"
        return web.json_response({"status": "unavailable", "reason": reason}, status=503)
    except Exception as error:
        # A probe answers "not ready" whatever the failure; the trace goes to the log.
        log.exception("readiness check failed")
        return web.json_response(
            {"status": "unavailable", "reason": type(error).__name__}, status=503
        )
    return web.json_response({"status": "ready"})
