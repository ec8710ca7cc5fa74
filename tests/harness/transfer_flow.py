"""The Case Transfer flow over real HTTP, shared by the end-to-end tests: a handoff requested
through the forms, its card posted to the channel, its buttons pressed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from . import activities
from .fake_connector import FakeConnector
from .ids import DEFAULT_CHANNEL_ID, fake_user
from conftest import RunningBot

CASE = "2311230040001234"
RECEIVER = fake_user("Bo Receiver")
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

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
NOTES_FORM = {
    "summary": "Autoscale stops at 20 nodes since the Monday upgrade; jobs queue for hours.",
    "steps_tried": "Raised the core quota -> Outcome: same failure",
    "next_steps_customer": "Upload the autoscaler logs",
    "next_steps_us": "US SE: review the autoscaler logs",
    "next_contact_date": "2026-11-25",
    "next_contact_time": "09:00",
    "who_waits": "Customer waits for us",
}


async def post(bot: RunningBot, activity: dict[str, Any]) -> Any:
    async with bot.session.post(f"{bot.url}/api/messages", json=activity) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


async def submit(
    bot: RunningBot, connector: FakeConnector, form: str, values: dict[str, Any]
) -> None:
    before = len(connector.activities())
    value = {"form": form, "action": "next", **values}
    await post(bot, activities.submit_message(value, connector.url))
    await connector.wait_for_activities(before + 1)


async def set_up_channel(bot: RunningBot, connector: FakeConnector) -> None:
    await post(bot, activities.bot_added_to_team(connector.url))
    await post(bot, activities.channel_message("setup", connector.url))
    await connector.wait_for_activities(
        predicate=lambda a: "now the Case Transfer channel" in (a.get("text") or "")
    )


async def request_handoff(
    bot: RunningBot,
    connector: FakeConnector,
    case_form: dict[str, str] = CASE_FORM,
    notes_form: dict[str, str] = NOTES_FORM,
    *,
    confirm: bool = True,
) -> None:
    """The handoff of CASE through its forms; without `confirm`, it stops at the review."""
    await post(bot, activities.personal_message(f"handoff {CASE}", connector.url))
    await connector.wait_for_activities(predicate=lambda a: bool(a.get("attachments")))
    await submit(bot, connector, "case", case_form)
    await submit(bot, connector, "transfer", TRANSFER_FORM)
    await submit(bot, connector, "notes", notes_form)
    form = _last_form(connector)
    if form == "meeting":
        await submit(bot, connector, "meeting", {"can_attend": "yes"})
    if confirm:
        await submit(bot, connector, "review", {})


def _last_form(connector: FakeConnector) -> str:
    card = connector.adaptive_cards()[-1]
    return str(next(a["data"]["form"] for a in card["actions"] if "form" in a.get("data", {})))


def channel_cards(connector: FakeConnector) -> list[dict[str, Any]]:
    return [
        a["attachments"][0]["content"]
        for a in connector.activities(DEFAULT_CHANNEL_ID)
        if a.get("attachments")
    ]


async def posted_card(connector: FakeConnector) -> tuple[dict[str, Any], str]:
    """The handoff card in the channel, and the id the connector gave its message."""
    [record] = await connector.wait_for(
        lambda r: (
            r.method == "POST"
            and r.conversation_id is not None
            and r.conversation_id.startswith(DEFAULT_CHANNEL_ID)
            and bool((r.body or {}).get("attachments"))
        ),
        description="handoff card posted to the channel",
    )
    card = record.body["attachments"][0]["content"]
    return card, str(record.response["id"])


def accept_invoke(
    connector: FakeConnector, card: dict[str, Any], message_id: str, user: Any
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


def invoke_for(
    connector: FakeConnector,
    card: dict[str, Any],
    message_id: str,
    verb: str,
    user: Any,
    **inputs: str,
) -> dict[str, Any]:
    """Presses a button; a button behind Action.ShowCard sends its text box's value too."""
    for action in card["actions"]:
        execute = action if action.get("verb") == verb else None
        if action["type"] == "Action.ShowCard":
            execute = next((a for a in action["card"]["actions"] if a.get("verb") == verb), None)
        if execute is not None:
            return activities.card_action_invoke(
                verb,
                {**execute["data"], **inputs},
                connector.url,
                message_id,
                scope="channel",
                user_id=user.id,
                user_name=user.name,
                aad_object_id=user.aad_object_id,
            )
    raise AssertionError(f"no {verb} button on the card")
