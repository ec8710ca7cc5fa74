"""Reference: the Microsoft 365 Agents SDK echo bot, SDK defaults (runs in bench/.venv-ref)."""

import os
import sys

from aiohttp import web
from microsoft_agents.activity import load_configuration_from_env
from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import (
    CloudAdapter,
    jwt_authorization_middleware,
    start_agent_process,
)
from microsoft_agents.hosting.core import AgentApplication, MemoryStorage, TurnContext, TurnState

# The SDK samples' set-up, with the one setting a bot without credentials needs (the bench
# runs it in local mode, as ours: no app id, no tokens).
os.environ.setdefault("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED", "true")
CONFIG = load_configuration_from_env(os.environ)
CONNECTIONS = MsalConnectionManager(**CONFIG)
ADAPTER = CloudAdapter(connection_manager=CONNECTIONS)
APP = AgentApplication[TurnState](
    storage=MemoryStorage(), adapter=ADAPTER, connection_manager=CONNECTIONS, **CONFIG
)


@APP.activity("message")
async def on_message(context: TurnContext, _state: TurnState) -> None:
    await context.send_activity(f"Echo: {context.activity.text}")


async def messages(request: web.Request) -> web.Response:
    return await start_agent_process(request, APP, ADAPTER)


async def ready(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ready"})


app = web.Application(middlewares=[jwt_authorization_middleware])
app["agent_configuration"] = CONNECTIONS.get_default_connection_configuration()
app.router.add_post("/api/messages", messages)
app.router.add_get("/readyz", ready)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
