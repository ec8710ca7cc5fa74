"""A whole handoff over real HTTP against any bot address (one bot, or a round robin of
several): bind the Case Transfer channel, request a handoff through the dialog's cards, find
its card in the channel, press its buttons. Shared by the end-to-end tests and scripts/chaos.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiohttp

from handoff.models import Person

from . import activities
from .chat import all_text
from .fake_connector import FakeConnector
from .ids import (
    DEFAULT_BOT_ID,
    DEFAULT_CHANNEL_ID,
    DEFAULT_USER,
    TeamsUser,
    fake_user,
    personal_conversation_id,
)
from .plain_words import visible_strings
from .pseudo_locale import assert_translated, unmarked

if TYPE_CHECKING:  # scripts/chaos.py uses this module without pytest
    import pytest

CASE = "2311230040001234"
RECEIVER = fake_user("Bo Receiver")
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

# The forms of the one example handoff every harness shares (playground/scenario.json).
_FORMS: dict[str, dict[str, str]] = json.loads(
    (Path(__file__).resolve().parents[2] / "playground" / "scenario.json").read_text("utf-8")
)["forms"]
CASE_FORM = dict(_FORMS["case"])
TRANSFER_FORM = dict(_FORMS["transfer"])


def notes_form(next_contact: date | None = None) -> dict[str, str]:
    """The notes form; the next contact is tomorrow unless given."""
    day = next_contact or (datetime.now(UTC) + timedelta(days=1)).date()
    return {**_FORMS["notes"], "next_contact_date": day.isoformat()}


# The day after TUESDAY, for tests on the fake clock.
NOTES_FORM = notes_form(date(2026, 11, 25))


class BotAddress(Protocol):
    """Where activities go: a BotClient, or the test's RunningBot."""

    url: str
    session: aiohttp.ClientSession


async def post(bot: BotAddress, activity: Mapping[str, Any]) -> tuple[int, Any]:
    """POSTs the activity; the status and the JSON body (None when there is none)."""
    async with bot.session.post(f"{bot.url}/api/messages", json=activity) as response:
        body = await response.json() if response.content_type == "application/json" else None
        if isinstance(body, dict) and response.status == 200:
            # An invoke's answer: read as sent, then as a test compares it (in English).
            said = [body["value"]] if isinstance(body.get("value"), str) else []
            assert_translated([*said, *visible_strings(body)], "an invoke's answer")
        return response.status, unmarked(body)


class BotClient:
    """Posts activities to a bot (or a proxy in front of bots) at `url`."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        return await post(self, activity)

    async def ready(self) -> int:
        async with self.session.get(f"{self.url}/readyz") as response:
            return response.status


async def set_up_channel(bot: BotAddress, connector: FakeConnector) -> None:
    await post(bot, activities.bot_added_to_team(connector.url))
    await post(bot, activities.channel_message("setup", connector.url))
    await connector.wait_for_activities(
        predicate=lambda a: "now the Case Transfer channel" in (a.get("text") or ""), timeout=15
    )


def user_fields(user: TeamsUser | None) -> dict[str, Any]:
    """The sender's fields of the activities' builders: who sends it (None: the default user)."""
    if user is None:
        return {}
    return {"user_id": user.id, "user_name": user.name, "aad_object_id": user.aad_object_id}


async def _submit(
    bot: BotAddress,
    connector: FakeConnector,
    form: str,
    values: Mapping[str, Any],
    user: TeamsUser | None,
    locale: str = "en-US",
) -> None:
    before = len(connector.activities())
    value = {"form": form, "action": "next", **values}
    status, _ = await post(
        bot, activities.submit_message(value, connector.url, locale=locale, **user_fields(user))
    )
    if status >= 400:
        raise AssertionError(f"the {form} form was answered {status}")
    await connector.wait_for_activities(before + 1, timeout=15)


def _last_form(connector: FakeConnector, user: TeamsUser | None) -> str:
    """The form the bot last asked `user` in their personal chat (other people's dialogs and
    the channel's cards may be arriving at the same time)."""
    chat = personal_conversation_id((user or DEFAULT_USER).id, DEFAULT_BOT_ID)
    card = connector.adaptive_cards(chat)[-1]
    return str(next(a["data"]["form"] for a in card["actions"] if "form" in a.get("data", {})))


async def request_handoff(
    bot: BotAddress,
    connector: FakeConnector,
    case: str = CASE,
    user: TeamsUser | None = None,
    *,
    case_form: Mapping[str, str] = CASE_FORM,
    notes: Mapping[str, str] | None = None,
    confirm: bool = True,
    transfer: Mapping[str, str] = TRANSFER_FORM,
    locale: str = "en-US",
) -> None:
    """The whole dialog, one card per request (through a round robin, on alternate bots);
    without `confirm`, it stops at the review. The notes default to notes_form()."""
    before = len(connector.activities())
    message = activities.personal_message(
        f"handoff {case}", connector.url, locale=locale, **user_fields(user)
    )
    await post(bot, message)
    await connector.wait_for_activities(before + 1, timeout=15)
    await _submit(bot, connector, "case", case_form, user, locale)
    await _submit(bot, connector, "transfer", transfer, user, locale)
    notes = notes_form() if notes is None else notes
    await _submit(bot, connector, "notes", notes, user, locale)
    if _last_form(connector, user) == "meeting":
        await _submit(bot, connector, "meeting", {"can_attend": "yes"}, user, locale)
    if confirm:
        await _submit(bot, connector, "review", {}, user, locale)


async def handoff_card(
    bot: BotAddress, connector: FakeConnector, case: str = CASE
) -> tuple[dict[str, Any], str]:
    """Binds the Case Transfer channel, requests a handoff of `case` and returns its card in
    the channel and the message id it got."""
    await set_up_channel(bot, connector)
    await request_handoff(bot, connector, case)
    return await posted_card(connector, case)


def channel_cards(connector: FakeConnector) -> list[dict[str, Any]]:
    return [
        a["attachments"][0]["content"]
        for a in connector.activities(DEFAULT_CHANNEL_ID)
        if a.get("attachments")
    ]


async def posted_card(connector: FakeConnector, case: str = CASE) -> tuple[dict[str, Any], str]:
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


def invoke_for(
    connector: FakeConnector,
    card: dict[str, Any],
    message_id: str,
    verb: str,
    user: TeamsUser,
    scope: activities.Scope = "channel",
    **inputs: str,
) -> dict[str, Any]:
    """Presses a button (of a card in the Case Transfer channel, unless `scope` says where);
    a button behind Action.ShowCard sends its text box's value too."""
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
                scope=scope,
                user_id=user.id,
                user_name=user.name,
                aad_object_id=user.aad_object_id,
            )
    raise AssertionError(f"no {verb} button on the card")


def accept_invoke(
    connector: FakeConnector, card: dict[str, Any], message_id: str, user: TeamsUser
) -> dict[str, Any]:
    return invoke_for(connector, card, message_id, "accept", user)


def person(user: TeamsUser) -> Person:
    return Person(id=user.id, name=user.name, aad_object_id=user.aad_object_id)


def refusals(caplog: pytest.LogCaptureFixture, message: str) -> list[str]:
    """The `reason` (or `forged`) of each refusal logged as a warning with this message."""
    return [
        str(getattr(r, "reason", None) or getattr(r, "forged", None))
        for r in caplog.records
        if r.getMessage() == message and r.levelno == logging.WARNING
    ]


async def told(bot: BotAddress, connector: FakeConnector, activity: dict[str, Any]) -> str:
    """What the bot answered this message with (its text, or its card's text)."""
    await post(bot, activity)
    # The reply, not a notice the outbox sends to the same chat meanwhile.
    [reply] = await connector.wait_for_activities(
        conversation_id=activity["conversation"]["id"],
        predicate=lambda a: a.get("replyToId") == activity["id"],
    )
    if reply.get("attachments"):
        return all_text(reply["attachments"][0]["content"])
    return str(reply.get("text") or "")


async def command_by(bot: BotAddress, connector: FakeConnector, text: str, user: TeamsUser) -> str:
    """What the bot answers `user` typing `text` in their personal chat."""
    message = activities.personal_message(text, connector.url, **user_fields(user))
    return await told(bot, connector, message)


async def status_card(
    bot: BotAddress, connector: FakeConnector, user: TeamsUser, case: str = CASE
) -> tuple[dict[str, Any], str]:
    """`status <case>` typed by `user` in their personal chat: the card and its message id."""
    message = activities.personal_message(f"status {case}", connector.url, **user_fields(user))
    await post(bot, message)
    [record] = await connector.wait_for(
        lambda r: (
            r.method == "POST"
            and isinstance(r.body, dict)
            and r.body.get("replyToId") == message["id"]
            and bool(r.body.get("attachments"))
        ),
        description=f"the status card for {user.name}",
    )
    return record.body["attachments"][0]["content"], str(record.response["id"])
