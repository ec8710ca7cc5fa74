"""The bot's log: JSON lines on standard error, each line of a turn with its id; and what
aiohttp's own request handler logs: of requests it cannot parse, one warning line; an
access-log line per request only when asked for (``ACCESS_LOG``), and of the probes' requests
never.

aiohttp answers a request it cannot parse itself, with 400 (a header line longer than its
8 KB ``max_field_size``, a broken chunk, a bad request line), before any route sees it, and
logs it with ``logger.exception``: an ERROR with a traceback, whose message quotes the start
of the offending line, which for an oversized Authorization header is the start of the
token. Anyone can send such requests, so anyone could flood the log with errors and write
their tokens into it. They are the sender's fault, not the bot's: given to aiohttp as its
``logger`` (the application's ``handler_args``, so the tests' AppRunner and ``run_app`` in
app.py both use it), this logs each as one WARNING naming the kind of error and the peer,
quoting nothing of the request. Every other error keeps its ERROR and traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.log import server_logger
from aiohttp.web import BaseRequest, StreamResponse
from aiohttp.web_log import AccessLogger
from pythonjsonlogger.json import JsonFormatter

from handoff.turn_ids import TurnIdFilter

REFUSED = "malformed HTTP request refused"
# Asked every few seconds by the orchestrator and Prometheus: in the access log they would
# bury the requests from Teams.
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(TurnIdFilter())
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}", style="{", rename_fields={"levelname": "level"}
        )
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)


class ParseErrorsAsWarnings(logging.LoggerAdapter[logging.Logger]):
    def __init__(self, logger: logging.Logger = server_logger) -> None:
        super().__init__(logger, {})

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        if isinstance(error, HttpProcessingError):
            # aiohttp's message is "Error handling request from %s", with the peer's address.
            remote = str(args[0]) if args else None
            self.logger.warning(
                REFUSED,
                extra={"status": error.code, "reason": type(error).__name__, "remote": remote},
            )
            return
        super().exception(msg, *args, **kwargs)


def handler_args(access_log: bool) -> dict[str, Any]:
    """aiohttp's request handler's arguments, given as the application's ``handler_args``:
    they win over the runner's, so ``run_app`` and the tests' AppRunner log alike.

    No access log unless ``access_log``: a line per request is work on every turn, and the
    metrics count the requests by kind and time anyway. Refusals keep their own warning
    (teams/endpoint.py) either way."""
    args: dict[str, Any] = {"logger": ParseErrorsAsWarnings()}
    if access_log:
        args["access_log_class"] = ProbesUnlogged
    else:
        args["access_log"] = None
    return args


class ProbesUnlogged(AccessLogger):
    """aiohttp's access log (given as the application's ``access_log_class``), without the
    hits on the probes' paths; every other request keeps its line."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        if request.path in PROBE_PATHS:
            return
        super().log(request, response, time)
