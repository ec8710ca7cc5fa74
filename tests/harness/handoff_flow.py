"""A whole handoff over HTTP against any bot address (one bot, or a round robin of several):
bind the Case Transfer channel, request a handoff through the dialog's cards, click Accept.
Shared by the replica and outage tests and scripts/chaos.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from . import activities
from .fake_connector import FakeConnector
from .ids import DEFAULT_CHANNEL_ID, TeamsUser

CASE_FORM = {
    "title": "Cluster fails to scale out",
    "severity": "B",
    "is_24x7": "false",
    "plan": "Professional",
    "product_skill": "HDInsight",
    "customer_region": "US",
    "customer_timezone": "America/Chicago",
    "status": "in progress",
    "owner_region": "EMEA",
}
TRANSFER_FORM = {
    "kind": "between",
    "target_region": "US",
    "reason": "customer-time-zone",
    "customer_asked": "true",
}


def notes_form() -> dict[str, str]:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    return {
        "summary": "Autoscale stops at 20 nodes since the Monday upgrade; jobs queue for hours.",
        "steps_tried": "Raised the core quota -> Outcome: same failure",
        "next_steps_customer": "Upload the autoscaler logs",
        "next_steps_us": "US SE: review the autoscaler logs",
        "next_contact_date": tomorrow,
        "next_contact_time": "09:00",
        "who_waits": "Customer waits for us",
    }


class BotClient:
    """Posts activities to a bot (or a proxy in front of bots) at `url`."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        async with self.session.post(f"{self.url}/api/messages", json=activity) as response:
            body = await response.json() if response.content_type == "application/json" else None
            return response.status, body

    async def ready(self) -> int:
        async with self.session.get(f"{self.url}/readyz") as response:
            return response.status


async def set_up_channel(bot: BotClient, connector: FakeConnector) -> None:
    await bot.post(activities.bot_added_to_team(connector.url))
    await bot.post(activities.channel_message("setup", connector.url))
    await connector.wait_for_activities(
        predicate=lambda a: "now the Case Transfer channel" in (a.get("text") or ""), timeout=15
    )


def _user_fields(user: TeamsUser | None) -> dict[str, Any]:
    if user is None:
        return {}
    return {"user_id": user.id, "user_name": user.name, "aad_object_id": user.aad_object_id}


async def _submit(
    bot: BotClient,
    connector: FakeConnector,
    form: str,
    values: dict[str, Any],
    user: TeamsUser | None,
) -> None:
    before = len(connector.activities())
    value = {"form": form, "action": "next", **values}
    status, _ = await bot.post(
        activities.submit_message(value, connector.url, **_user_fields(user))
    )
    if status >= 400:
        raise AssertionError(f"the {form} form was answered {status}")
    await connector.wait_for_activities(before + 1, timeout=15)


def _last_form(connector: FakeConnector) -> str:
    card = connector.adaptive_cards()[-1]
    return str(next(a["data"]["form"] for a in card["actions"] if "form" in a.get("data", {})))


async def request_handoff(
    bot: BotClient, connector: FakeConnector, case: str, user: TeamsUser | None = None
) -> None:
    """The whole dialog, one card per request (through a round robin, on alternate bots)."""
    before = len(connector.activities())
    await bot.post(
        activities.personal_message(f"handoff {case}", connector.url, **_user_fields(user))
    )
    await connector.wait_for_activities(before + 1, timeout=15)
    await _submit(bot, connector, "case", CASE_FORM, user)
    await _submit(bot, connector, "transfer", TRANSFER_FORM, user)
    await _submit(bot, connector, "notes", notes_form(), user)
    if _last_form(connector) == "meeting":
        await _submit(bot, connector, "meeting", {"can_attend": "yes"}, user)
    await _submit(bot, connector, "review", {}, user)


async def posted_card(connector: FakeConnector, case: str) -> tuple[dict[str, Any], str]:
    """The case's card in the Case Transfer channel and the message id it got."""

    def is_card(record: Any) -> bool:
        body = record.body if isinstance(record.body, dict) else {}
        return (
            record.method == "POST"
            and 200 <= record.status < 300
            and str(record.conversation_id or "").startswith(DEFAULT_CHANNEL_ID)
            and case in str(body.get("attachments"))
        )

    [record, *_] = await connector.wait_for(is_card, 15, description=f"card of case {case}")
    return record.body["attachments"][0]["content"], str(record.response["id"])


def accept_invoke(
    connector: FakeConnector, card: dict[str, Any], message_id: str, user: TeamsUser
) -> dict[str, Any]:
    [accept] = [a for a in card["actions"] if a.get("verb") == "accept"]
    return activities.card_action_invoke(
        "accept",
        accept["data"],
        connector.url,
        message_id,
        scope="channel",
        user_id=user.id,
        user_name=user.name,
        aad_object_id=user.aad_object_id,
    )
