"""Proactive sends through the SDK's own continue_conversation, with failures classified so
the outbox knows whether to retry."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ConversationReference

log = logging.getLogger(__name__)

# The Bot Connector's answers worth another try later (design.md: the SDK does not retry).
RETRYABLE_STATUSES = frozenset({408, 412, 429, 500, 502, 503, 504})


class SendFailed(Exception):
    def __init__(self, message: str, *, status: int | None, retry_after: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status in RETRYABLE_STATUSES


def _failure(error: Exception) -> SendFailed:
    if isinstance(error, SendFailed):
        return error  # the pooled connector client classified it already
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    headers = getattr(response, "headers", None) or {}
    retry_after: float | None = None
    raw_retry_after = headers.get("Retry-After")
    if raw_retry_after:
        try:
            retry_after = float(raw_retry_after)
        except (TypeError, ValueError):
            retry_after = None
    return SendFailed(f"{type(error).__name__}: {error}", status=status, retry_after=retry_after)


class TeamsSender:
    def __init__(self, adapter: CloudAdapter, bot_app_id: str) -> None:
        self._adapter = adapter
        self._bot_app_id = bot_app_id

    @property
    def adapter(self) -> CloudAdapter:
        return self._adapter

    async def _run(self, reference: dict[str, Any], work: Any) -> Any:
        result: dict[str, Any] = {}

        async def callback(turn_context: TurnContext) -> None:
            try:
                result["value"] = await work(turn_context)
            except Exception as error:
                # Raised inside the turn, it would go to the adapter's on_turn_error, which
                # swallows it (and apologises into the chat): the send would pass for done.
                result["error"] = error

        try:
            await self._adapter.continue_conversation(
                ConversationReference().deserialize(reference), callback, self._bot_app_id
            )
        except Exception as error:
            raise _failure(error) from error
        failed = result.get("error")
        if failed is not None:
            raise _failure(failed) from failed
        return result.get("value")

    async def send(self, reference: dict[str, Any], activity: Activity) -> str:
        """Posts the activity (a new thread in a channel); returns its activity id."""

        async def work(turn_context: TurnContext) -> str:
            response = await turn_context.send_activity(activity)
            return str(response.id) if response is not None and response.id else ""

        sent: str = await self._run(reference, work)
        return sent

    async def update(self, reference: dict[str, Any], activity_id: str, activity: Activity) -> None:
        """Replaces a posted activity in place (PUT), for everyone who sees it."""
        activity.id = activity_id

        async def work(turn_context: TurnContext) -> None:
            await turn_context.update_activity(activity)

        await self._run(reference, work)

    async def team_group_id(self, reference: dict[str, Any], team_id: str) -> str | None:
        """The Azure AD group id of a team the bot is in (what Graph names the team by)."""

        async def work(turn_context: TurnContext) -> str | None:
            connector = turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)
            teams = getattr(connector, "teams", None)
            if teams is not None:  # the pooled client (teams/connector_client.py)
                details = await teams.get_team_details(team_id)
            else:
                details = await TeamsInfo.get_team_details(turn_context, team_id)
            return details.aad_group_id if details is not None else None

        group: str | None = await self._run(reference, work)
        return group
