"""POST /api/messages: checks the request, authenticates it, and runs the turn."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.core import Bot, InvokeResponse, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

log = logging.getLogger(__name__)

# A Teams activity is a few KB; the largest (a card submit with long notes) stays far below.
MAX_BODY_BYTES = 256 * 1024


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _invoke_body(response: InvokeResponse) -> Any:
    body = response.body
    # The SDK serializes msrest models itself but chokes on plain dicts (design.md's invoke 500).
    return body if isinstance(body, dict | list | str | None) else serializer_helper(body)


BOT = web.AppKey("bot", Bot)
ADAPTER = web.AppKey("adapter", CloudAdapter)
# Seconds a turn may take before the request is answered 503 (Teams resends after ~15 s).
REQUEST_DEADLINE = web.AppKey("request_deadline", float)
DEFAULT_DEADLINE_SECONDS = 10.0


class MessagesEndpoint:
    """Reads the adapter and the bot from the application, where start-up puts them."""

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        adapter, bot = request.app[ADAPTER], request.app.get(BOT)
        if bot is None:
            return _problem(503, "The bot is still starting; try again in a moment.")
        if request.content_type != "application/json":
            return _problem(415, "Send the activity as application/json.")
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _problem(413, f"The activity is larger than {MAX_BODY_BYTES} bytes.")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _problem(413, f"The activity is larger than {MAX_BODY_BYTES} bytes.")
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _problem(400, "The body is not valid JSON.")
        if not isinstance(body, dict):
            return _problem(400, "The body must be a JSON object (an activity).")
        try:
            activity: Activity = Activity().deserialize(body)
        except Exception:
            log.info("activity could not be read", exc_info=True)
            return _problem(400, "The body is not a Bot Framework activity.")
        if not activity.type or activity.conversation is None or not activity.service_url:
            return _problem(400, "The activity needs a type, a conversation and a serviceUrl.")

        auth_header = request.headers.get("Authorization", "")
        try:
            authentication = await adapter.bot_framework_authentication.authenticate_request(
                activity, auth_header
            )
        except Exception as error:
            # Whatever the SDK raises for a bad token (PermissionError, jwt errors, a metadata
            # fetch that fails), the caller is unauthenticated: 401, never 500.
            log.warning(
                "request refused: not authenticated",
                extra={"reason": type(error).__name__, "activity_id": activity.id},
            )
            return _problem(401, "Unauthorized: a valid Bot Framework token is required.")

        deadline = request.app.get(REQUEST_DEADLINE, DEFAULT_DEADLINE_SECONDS)
        try:
            async with asyncio.timeout(deadline):
                response = await adapter.process_activity(authentication, activity, bot.on_turn)
        except TimeoutError:
            # The database or the connector is too slow; whatever the turn wrote was in a
            # transaction that is rolled back, so trying again is safe.
            log.error(
                "turn ran past its deadline",
                extra={"deadline": deadline, "activity_id": activity.id},
            )
            return _problem(503, "I could not finish that in time; try again in a moment.")
        if response is None:
            return web.Response(status=201)
        return web.json_response(_invoke_body(response), status=response.status)
