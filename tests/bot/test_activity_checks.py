"""The shape an activity's JSON must have before a turn runs on it: each problem is named by
the field that has it (the end-to-end refusals are in tests/e2e/test_bad_input.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.activity_checks import activity_problem
from bot.json_body import parse_json

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
