"""The shape an activity's JSON must have before a turn runs on it: each problem is named by
the field that has it (the end-to-end refusals are in tests/e2e/test_bad_input.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from teams.activity_checks import activity_problem, schema_problem
from teams.json_body import parse_json

from harness import activities

SERVICE = "https://smba.example.invalid/emea/"


def problem_of(activity: dict[str, Any], *, ensure_ascii: bool = True) -> str | None:
    """The problem found in the activity as it arrives: JSON text, parsed as the endpoint does."""
    text = json.dumps(activity, ensure_ascii=ensure_ascii)
    return activity_problem(parse_json(text), text)


def test_teams_activities_have_no_problem() -> None:
    for activity in [
        activities.personal_message("Grüße 👋 {code} [1]", SERVICE),
        activities.channel_message("status 2311230040001234", SERVICE),
        activities.card_action_invoke("accept", {"handoff_id": "h", "version": 3}, SERVICE, "1"),
        activities.submit_message({"verb": "accept", "note": "x\ty"}, SERVICE, scope="channel"),
        activities.bot_added_to_team(SERVICE),
        activities.bot_added_personal(SERVICE),
        activities.installation_update(SERVICE, scope="groupChat"),
    ]:
        assert problem_of(activity) is None
        assert problem_of(activity, ensure_ascii=False) is None


@pytest.mark.parametrize(
    ("activity", "named"),
    [
        (activities.personal_message("help\x00", SERVICE), "text"),
        (
            activities.personal_message("hi", SERVICE, user_id="29:a\x00", conversation_id="a:1"),
            "from.id",
        ),
        (activities.personal_message("hi", SERVICE, aad_object_id="\x00"), "from.aadObjectId"),
        (activities.personal_message("hi", SERVICE, conversation_id="a:\x00"), "conversation.id"),
        (
            activities.submit_message({"verb": "accept", "handoff_id": "\x00h"}, SERVICE),
            "value.handoff_id",
        ),
        (
            activities.card_action_invoke("accept", {"notes": ["ok", "x\x00"]}, SERVICE, "1"),
            "value.action.data.notes[1]",
        ),
    ],
)
def test_a_nul_anywhere_is_named_by_its_field(activity: dict[str, Any], named: str) -> None:
    assert problem_of(activity) == f"{named} holds a NUL character (\\u0000); remove it."


def test_a_nul_in_a_key_is_named_by_the_object_holding_it() -> None:
    submit = activities.submit_message({"verb": "accept", "a\x00": 1}, SERVICE)
    assert problem_of(submit) == "A key in value holds a NUL character (\\u0000); remove it."


def test_half_a_surrogate_pair_is_refused_and_a_whole_pair_is_a_character() -> None:
    lone = activities.personal_message("help \udc00", SERVICE)
    assert problem_of(lone) == (
        "text holds an unpaired surrogate (\\udc00), which is not a character; remove it."
    )
    # "\ud83d\ude00" in the JSON text is one character, 😀.
    paired = activities.personal_message("help \U0001f600", SERVICE)
    assert "\\ud83d\\ude00" in json.dumps(paired)
    assert problem_of(paired) is None


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul() -> None:
    # The six characters \u0000, as someone would write them in a note about escapes.
    literal = activities.personal_message("write \\u0000 for NUL", SERVICE)
    assert "\\\\u0000" in json.dumps(literal)
    assert problem_of(literal) is None


def channel_post(**channel_data: Any) -> dict[str, Any]:
    activity = activities.channel_message("help", SERVICE)
    activity["channelData"].update(channel_data)
    return activity


def added(**fields: Any) -> dict[str, Any]:
    return {**activities.bot_added_to_team(SERVICE), **fields}


def message(**fields: Any) -> dict[str, Any]:
    return {**activities.channel_message("help", SERVICE), **fields}


MENTION = {"type": "mention", "text": "<at>Bot</at>", "mentioned": {"id": "28:b", "name": "Bot"}}


@pytest.mark.parametrize(
    ("activity", "problem"),
    [
        (added(channelData=None), "A Teams conversationUpdate needs channelData (an object)."),
        (added(channelData="x"), "channelData must be an object."),
        (added(channelData=[]), "channelData must be an object."),
        (channel_post(team=[]), "channelData.team must be an object."),
        (channel_post(team={"id": 42}), "channelData.team.id must be text."),
        (channel_post(team={"name": "Support"}), "channelData.team needs an id."),
        (channel_post(self={}), "channelData may not hold a field named self."),
        (
            channel_post(team={"id": "19:t", "aadGroupId": ["g"]}),
            "channelData.team.aadGroupId must be text.",
        ),
        (channel_post(channel="19:c"), "channelData.channel must be an object."),
        (channel_post(channel={"id": True}), "channelData.channel.id must be text."),
        (channel_post(tenant=5), "channelData.tenant must be an object."),
        (channel_post(tenant={"id": 5}), "channelData.tenant.id must be text."),
        (channel_post(eventType={}), "channelData.eventType must be text."),
        (
            channel_post(settings={"selectedChannel": "19:c"}),
            "channelData.settings.selectedChannel must be an object.",
        ),
        (
            channel_post(notification={"alert": "yes"}),
            "channelData.notification.alert must be true or false.",
        ),
        (channel_post(meeting=[]), "channelData.meeting must be an object."),
        (channel_post(onBehalfOf={"mri": "x"}), "channelData.onBehalfOf must be a list."),
        (channel_post(onBehalfOf=[None]), "channelData.onBehalfOf[0] must be an object."),
        (
            channel_post(onBehalfOf=[{"itemid": True}]),
            "channelData.onBehalfOf[0].itemid must be a whole number.",
        ),
        (message(entities={"type": "mention"}), "entities must be a list."),
        (message(entities=[None]), "entities[0] must be an object."),
        (message(entities=["mention"]), "entities[0] must be an object."),
        (message(entities=[{"text": "x"}]), "entities[0].type must be text."),
        (
            message(entities=[MENTION, {**MENTION, "mentioned": "Bot"}]),
            "entities[1].mentioned must be an object with an id (text).",
        ),
        (
            message(entities=[{**MENTION, "mentioned": {"name": "Bot"}}]),
            "entities[0].mentioned must be an object with an id (text).",
        ),
        (message(entities=[{**MENTION, "text": 5}]), "entities[0].text must be text."),
        (
            message(entities=[{**MENTION, "mentioned": {"id": "28:b", "name": 5}}]),
            "entities[0].mentioned.name must be text.",
        ),
        (
            message(entities=[{"type": "Mention", "mentioned": {"id": "28:b"}}]),
            "entities[0] needs a text or a mentioned.name.",
        ),
        (added(membersAdded={"id": "28:b"}), "membersAdded must be a list."),
        (added(membersAdded=[None]), "membersAdded[0] must be an account with an id (text)."),
        (
            added(membersAdded=[{"id": "28:b"}, {"id": ""}]),
            "membersAdded[1] must be an account with an id (text).",
        ),
        (
            added(membersRemoved=[{"id": 7}]),
            "membersRemoved[0] must be an account with an id (text).",
        ),
    ],
)
def test_a_malformed_shape_is_named_by_its_field(activity: dict[str, Any], problem: str) -> None:
    assert problem_of(activity) == problem


@pytest.mark.parametrize(
    "activity",
    [
        # null is msrest's "absent", and fields the SDK does not declare are not its to read.
        channel_post(team=None, channel=None, meeting=None, eventType=None),
        channel_post(team={"id": "19:t", "type": "standard", "extra": {"a": [1]}}),
        channel_post(notification={"alert": True}, onBehalfOf=[{"itemId": 0, "mri": "8:orgid:x"}]),
        channel_post(settings={"selectedChannel": {"id": "19:c"}}),
        message(entities=[{"type": "clientInfo", "locale": "en-US"}, MENTION]),
        message(entities=[{**MENTION, "text": None}]),  # the name stands in for it
        message(entities=None, channelData=None),  # a message needs neither
        added(membersAdded=[{"id": "28:b"}, {"id": "29:u", "aadObjectId": "a"}], membersRemoved=[]),
    ],
)
def test_what_the_sdk_reads_well_is_let_through(activity: dict[str, Any]) -> None:
    assert problem_of(activity) is None


@pytest.mark.parametrize(
    ("activity", "problem"),
    [
        (message(attachments={"contentType": "text/html"}), "attachments must be a list."),
        (message(attachments=[None]), "attachments[0] must be an object."),
        (message(attachments=["<p>hi</p>"]), "attachments[0] must be an object."),
        (message(timestamp="yesterday"), "timestamp must be a date and time (ISO 8601)."),
        (
            message(conversation={"id": "19:c", "isGroup": "yes"}),
            "conversation.isGroup must be true or false.",
        ),
        (message(entities={"type": "mention"}), "entities must be a list."),
        (message(membersAdded=[5]), "membersAdded[0] must be an object."),
    ],
)
def test_what_msrest_cannot_read_is_named_by_its_field(
    activity: dict[str, Any], problem: str
) -> None:
    assert schema_problem(json.loads(json.dumps(activity))) == problem


def test_teams_activities_are_of_the_declared_schema() -> None:
    for activity in [
        activities.channel_message("help", SERVICE),
        activities.card_action_invoke("accept", {"handoff_id": "h"}, SERVICE, "1", scope="channel"),
        activities.bot_added_to_team(SERVICE),
        activities.load_template("invoke_adaptivecard_action.json"),
        activities.load_template("message_personal.json"),
    ]:
        assert schema_problem(activity) is None
