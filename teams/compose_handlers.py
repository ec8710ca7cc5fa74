"""The compose box's invokes (the app's message extension), each turned into a Request for its
use case (application/compose/) and the answer put the way Teams wants it:

- composeExtension/query (the `searchCases` command): the handoffs found, as a list of cards
  with their previews (type "result", layout "list"), or a message instead;
- composeExtension/queryLink: a pasted link to a case's page unfurled into the case's card, or
  nothing (the link stays a link); never cached by Teams, since who may read it differs;
- composeExtension/fetchTask and submitAction ("Hand off this case" on a message): the dialog
  (an Adaptive Card), then a pop-up message saying where to carry on.

Answered by HandoffBot.on_invoke_activity directly, like every invoke (see the CloudAdapter
trap in teams/handlers.py). Also here: HandoffStarter, which begins a handoff dialog in a
personal chat for the outbox (application/compose/hand_off.py's OpenHandoffStep)."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext

from application.compose.hand_off import HAND_OFF_COMMAND, HandoffDraft, HandOffMessage
from application.compose.search import QUERY_PARAMETER, SEARCH_COMMAND, CaseSearch, Results
from application.request import Card, Request, Said
from application.team_membership import TeamMembership
from cards.compose_cards import CASE_INPUT, THUMBNAIL_CONTENT_TYPE
from cards.elements import CARD_CONTENT_TYPE
from i18n import _

from .activities import fitted_card, invoke_response, request_of
from .sending import TeamsSender

log = logging.getLogger(__name__)

QUERY = "composeExtension/query"
QUERY_LINK = "composeExtension/queryLink"
# Zero-install unfurling, with no person named: the manifest does not ask for it.
ANONYMOUS_QUERY_LINK = "composeExtension/anonymousQueryLink"
FETCH_TASK = "composeExtension/fetchTask"
SUBMIT_ACTION = "composeExtension/submitAction"
COMPOSE_INVOKES = frozenset({QUERY, QUERY_LINK, ANONYMOUS_QUERY_LINK, FETCH_TASK, SUBMIT_ACTION})

MAX_QUERY_CHARS = 200
MAX_URL_CHARS = 2048
# A message's HTML is read up to here (Teams caps a message near 28 KB).
MAX_HTML_CHARS = 200_000
# Teams caches an unfurled link for 30 minutes unless told not to: a card that another
# person may not read, or that has changed since, must not be shown from that cache.
NO_CACHE = {
    "actions": [{"title": "default", "type": "setCachePolicy", "value": '{"type":"no-cache"}'}]
}

_BREAK = re.compile(r"<\s*(?:br\s*/?|/p|/div|/h[1-6]|/tr|/blockquote)\s*>", re.IGNORECASE)
_ITEM = re.compile(r"<\s*li\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_BLANK_LINES = re.compile(r"\n{3,}")


def unknown_command(command: object) -> str:
    shown = str(command)[:40]
    # Translators: {command} is the id of a compose-box command the app's manifest names.
    return _(
        "I don't know the command “{command}”: update the app, or ask your Teams admin to."
    ).format(command=shown)


def dialog_title() -> str:
    """The title of the "Hand off this case" dialog (the same words as the manifest's action)."""
    return _("Hand off this case")


def message_text(payload: object) -> str:
    """The text of the message an action was chosen on (messagePayload), its HTML read as
    lines: paragraphs, line breaks and list items each start a line."""
    body = payload.get("body") if isinstance(payload, Mapping) else None
    if not isinstance(body, Mapping) or not isinstance(body.get("content"), str):
        return ""
    content = str(body["content"])[:MAX_HTML_CHARS].replace("\r\n", "\n")
    if str(body.get("contentType") or "html").lower() == "html":
        content = _ITEM.sub("\n- ", _BREAK.sub("\n", content.replace("\n", " ")))
        content = html.unescape(_TAG.sub("", content)).replace("\xa0", " ")
    lines = (line.strip() for line in content.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _parameters(value: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    parameters = value.get("parameters")
    for parameter in parameters if isinstance(parameters, list) else []:
        if isinstance(parameter, Mapping) and isinstance(parameter.get("name"), str):
            given = parameter.get("value")
            found[parameter["name"]] = given if isinstance(given, str) else ""
    return found


def _skipped(value: Mapping[str, Any]) -> bool:
    """Whether Teams asks for a further page: the results are never more than one."""
    options = value.get("queryOptions")
    skip = options.get("skip") if isinstance(options, Mapping) else None
    return isinstance(skip, int) and not isinstance(skip, bool) and skip > 0


def results_body(results: Results, *, link: bool = False) -> dict[str, Any]:
    """The composeExtension answer: the results as a list, or a message instead."""
    if results.said is not None:
        return {"composeExtension": {"type": "message", "text": results.said}}
    attachments = [
        {
            "contentType": found.content_type,
            "content": fitted_card(found.content)
            if found.content_type == CARD_CONTENT_TYPE
            else found.content,
            "preview": {"contentType": THUMBNAIL_CONTENT_TYPE, "content": found.preview},
        }
        for found in results.found
    ]
    answer: dict[str, Any] = {
        "type": "result",
        "attachmentLayout": "list",
        "attachments": attachments,
    }
    if link:
        answer["suggestedActions"] = NO_CACHE
    return {"composeExtension": answer}


def task_body(said: Said) -> dict[str, Any]:
    """The action's answer: the dialog's card, or a pop-up message."""
    if isinstance(said, Card):
        card = {"contentType": CARD_CONTENT_TYPE, "content": fitted_card(said.content)}
        value = {"title": dialog_title(), "width": "medium", "height": "medium", "card": card}
        return {"task": {"type": "continue", "value": value}}
    return {"task": {"type": "message", "value": str(said)}}


class ComposeHandlers:
    def __init__(
        self, search: CaseSearch, hand_off: HandOffMessage, membership: TeamMembership
    ) -> None:
        self._search = search
        self._hand_off = hand_off
        self._membership = membership

    async def answer(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, Mapping) else {}
        name = activity.name
        if name == ANONYMOUS_QUERY_LINK:
            # No person to ask the read policy about: the link stays a link.
            return invoke_response(results_body(Results(), link=True))
        request = request_of(turn_context, self._membership)
        if name == QUERY:
            body = await self._query(request, value)
        elif name == QUERY_LINK:
            url = value.get("url")
            url = url[:MAX_URL_CHARS] if isinstance(url, str) else ""
            body = results_body(await self._search.unfurl(request, url), link=True)
        else:
            body = await self._action(request, value, submitted=name == SUBMIT_ACTION)
        return invoke_response(body)

    async def _query(self, request: Request, value: Mapping[str, Any]) -> dict[str, Any]:
        command = value.get("commandId")
        if command != SEARCH_COMMAND:
            log.warning("unknown compose search", extra={"command": str(command)[:80]})
            return results_body(Results(said=unknown_command(command)))
        if _skipped(value):
            return results_body(Results())
        parameters = _parameters(value)
        query = "" if "initialRun" in parameters else parameters.get(QUERY_PARAMETER, "")
        results = await self._search.search(request, query[:MAX_QUERY_CHARS])
        log.info("compose search answered", extra={"results": len(results.found)})
        return results_body(results)

    async def _action(
        self, request: Request, value: Mapping[str, Any], *, submitted: bool
    ) -> dict[str, Any]:
        command = value.get("commandId")
        if command != HAND_OFF_COMMAND:
            log.warning("unknown compose action", extra={"command": str(command)[:80]})
            return task_body(unknown_command(command))
        text = message_text(value.get("messagePayload"))
        if not submitted:
            return task_body(await self._hand_off.ask(request, text))
        data = value.get("data")
        typed = data.get(CASE_INPUT) if isinstance(data, Mapping) else None
        said = await self._hand_off.open(request, text, typed if isinstance(typed, str) else "")
        return task_body(said)


BeginHandoff = Callable[[TurnContext, HandoffDraft], Awaitable[None]]


class HandoffStarter:
    """Begins a handoff dialog in a person's personal chat (application/compose/hand_off.py's
    DialogStarter), in a turn of the bot's own there: `begin` is HandoffBot.open_handoff."""

    def __init__(self, sender: TeamsSender, begin: BeginHandoff) -> None:
        self._sender = sender
        self._begin = begin

    async def start(self, reference: dict[str, Any], draft: HandoffDraft) -> None:
        async def work(turn_context: TurnContext) -> None:
            await self._begin(turn_context, draft)

        await self._sender.run_turn(reference, work)
