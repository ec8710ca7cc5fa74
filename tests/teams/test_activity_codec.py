"""What the bot sends to the Bot Connector is exactly what msrest would send: the fast path of
teams/activity_codec.py against msrest itself, on the activities the bot reads and writes."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import pytest
from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    Attachment,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
    Mention,
)

from application.router import help_text
from cards.elements import CARD_CONTENT_TYPE, card, facts, heading, submit, text
from teams.activity_codec import msrest_json, msrest_read, read_activity, read_model, to_json

from harness import activities

SERVICE = "https://smba.example.invalid/emea/"


class Colour(str, Enum):  # noqa: UP042  (as botbuilder declares its enums)
    RED = "red"


def incoming() -> list[dict[str, Any]]:
    return [
        activities.personal_message("help", SERVICE, timezone="Europe/Berlin"),
        activities.channel_message("list EMEA", SERVICE),
        activities.bot_added_to_team(SERVICE),
        activities.submit_message({"form": "case", "action": "next", "n": 1.5}, SERVICE),
        activities.card_action_invoke("accept", {"handoff_id": "h1", "version": 3}, SERVICE, "1"),
    ]


def a_card() -> dict[str, Any]:
    return card(
        [heading("Handoff 1234"), text("Ünïcode ✓", subtle=True), facts([("a", "b")])],
        [submit("Accept", {"verb": "accept", "version": 2, "flag": True, "none": None})],
    )


def replies() -> list[Any]:
    received = read_activity(activities.personal_message("help", SERVICE))
    reference = TurnContext.get_conversation_reference(received)
    made: list[Any] = [
        MessageFactory.text(help_text()),
        MessageFactory.attachment(Attachment(content_type=CARD_CONTENT_TYPE, content=a_card())),
        Activity(
            type=ActivityTypes.message,
            text="<at>Bo</at> took it",
            entities=[Mention(mentioned=ChannelAccount(id="29:bo", name="Bo"), text="<at>Bo</at>")],
            timestamp=datetime(2030, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
            channel_data={"notification": {"alert": True}, "tenant": {"id": "t"}},
        ),
        ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id="28:bot"),
            members=[ChannelAccount(id="29:a"), None],
            tenant_id="t",
            channel_data={"tenant": {"id": "t"}},
        ),
        reference,
    ]
    for activity in made[:3]:
        TurnContext.apply_conversation_reference(activity, reference)
    return made


# Shapes the fast path leaves to msrest: still msrest's output.
def unusual() -> list[Any]:
    return [
        Activity(type="message", value={"colour": Colour.RED}),
        Activity(type="message", value={1: "int key"}),
        Activity(type="message", attachments=[Attachment(content=("a", "tuple"))]),
        Activity(type="message", value={"at": datetime(2030, 1, 2, tzinfo=UTC)}),
        Activity(type="message", local_timezone=Colour.RED, text=7),
    ]


@pytest.mark.parametrize(
    "model",
    [*(read_activity(body) for body in incoming()), *replies(), *unusual()],
)
def test_what_is_sent_is_what_msrest_would_send(model: Any) -> None:
    assert to_json(model) == msrest_json(model)


def test_a_read_activity_is_sent_back_as_it_came() -> None:
    for body in incoming():
        assert to_json(read_activity(body)) == msrest_json(Activity().deserialize(body))


# Bodies the fast reader leaves to msrest, and ones msrest refuses (the endpoint's 400).
ODD_BODIES: list[dict[str, Any]] = [
    {"type": "message", "text": 5, "channelData": {"x": [1, None, 2.5]}},
    {"type": "message", "timestamp": "2030-01-02T03:04:05.123Z", "unknownField": {"a": 1}},
    {"type": "message", "from": {"id": "29:a", "role": "user", "extra": True}},
    {"type": "message", "membersAdded": [{"id": "29:a"}, None], "entities": "not a list"},
    {"type": "message", "timestamp": "not a time"},
    # Times as Teams writes them (seven digits of fraction, an offset) and at the edges.
    {"type": "message", "timestamp": "2019-03-28T08:00:00.7715787Z"},
    {"type": "message", "localTimestamp": "2026-03-29T01:59:59.9999999+01:00"},
    {"type": "message", "localTimestamp": "2026-12-04T10:00:00.1-08:00"},
    {"type": "message", "timestamp": "2026-12-04t10:00:00z"},
    {"type": "message", "timestamp": "0001-01-01T00:30:00+01:00"},
    {"type": "message", "timestamp": "9999-12-31T23:30:00-01:00"},
    {"type": "message", "timestamp": "2026-02-30T10:00:00Z"},
    {"type": "message", "timestamp": "2026-12-04T10:00:00"},
    {"type": "message", "from": "not an account"},
]


@pytest.mark.parametrize("body", [*incoming(), *ODD_BODIES])
def test_what_is_read_is_what_msrest_would_read(body: dict[str, Any]) -> None:
    try:
        expected = msrest_read(body)
    except Exception as error:
        with pytest.raises(type(error)):
            read_activity(body)
        return
    assert read_activity(body) == expected


def stored_references() -> list[dict[str, Any]]:
    """Conversation references as the bot stores them for proactive sends, and odd ones."""
    stored = [
        to_json(TurnContext.get_conversation_reference(read_activity(body))) for body in incoming()
    ]
    return [
        *stored,
        {**stored[0], "user": {"id": "29:a", "aadObjectId": "x", "role": "user", "new": 1}},
        {**stored[0], "conversation": "not an account"},
        {"serviceUrl": 5},
    ]


@pytest.mark.parametrize("reference", stored_references())
def test_a_stored_reference_is_read_as_msrest_would_read_it(reference: dict[str, Any]) -> None:
    try:
        expected = ConversationReference().deserialize(reference)
    except Exception as error:
        with pytest.raises(type(error)):
            read_model(ConversationReference, reference)
        return
    read = read_model(ConversationReference, reference)
    assert type(read) is ConversationReference and read == expected
    assert to_json(read) == msrest_json(expected)
