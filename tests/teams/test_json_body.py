"""The body read as JSON within limits: the depth is measured on the text, exactly, before the
parser recurses; whatever cannot be read is refused with a reason, never raised."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from teams.json_body import (
    MAX_DEPTH,
    JsonRefused,
    decode_json_text,
    nested_deeper_than,
    parse_json,
)

from harness import activities

SERVICE = "https://smba.example.invalid/emea/"


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    return 0


def teams_activities() -> list[dict[str, Any]]:
    return [
        activities.load_template("message_personal.json"),
        activities.load_template("invoke_adaptivecard_action.json"),
        activities.load_template("conversation_update_bot_added_personal.json"),
        activities.load_template("conversation_update_bot_added_to_team.json"),
        activities.channel_message("status 2311230040001234", SERVICE),
        activities.card_action_invoke("accept", {"handoff_id": "h", "version": 3}, SERVICE, "1"),
        activities.submit_message({"verb": "accept"}, SERVICE, scope="channel"),
        activities.installation_update(SERVICE, scope="channel"),
    ]


@pytest.mark.parametrize("activity", teams_activities(), ids=lambda a: str(a.get("type")))
def test_teams_activities_read_as_json_loads_reads_them(activity: dict[str, Any]) -> None:
    raw = json.dumps(activity).encode()
    assert parse_json(decode_json_text(raw)) == json.loads(raw)
    # The deepest Teams nests is far from the limit, which leaves room for card data.
    assert depth_of(activity) <= 4 < MAX_DEPTH // 8


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_nesting_up_to_the_limit_is_read_and_one_level_more_is_refused(opener: str) -> None:
    closer = "]" if opener == "[" else "}"

    def nested(depth: int) -> str:
        return opener * depth + "1" + closer * depth

    assert depth_of(parse_json(nested(MAX_DEPTH))) == MAX_DEPTH
    with pytest.raises(JsonRefused) as refused:
        parse_json(nested(MAX_DEPTH + 1))
    assert refused.value.reason == "too deep"
    assert f"more than {MAX_DEPTH} levels" in refused.value.message


def test_a_thousand_levels_are_refused_before_the_parser_recurses() -> None:
    with pytest.raises(JsonRefused, match="levels deep"):
        parse_json("[" * 1000 + "]" * 1000)
    # Left open, or with a string left open before them: refused all the same, no RecursionError.
    with pytest.raises(JsonRefused):
        parse_json("[" * 100_000)
    with pytest.raises(JsonRefused):
        parse_json('["open' + "[" * 100_000)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 200,
        "{" * 200,
        'say \\" [[[[' + "[" * 200,
        "a backslash \\\\" + "}" * 200,
        '\\\\\\" still text ' + "{" * 200,
    ],
)
def test_brackets_inside_strings_do_not_nest(text: str) -> None:
    body = json.dumps({"text": text, "value": {"note": text}})
    assert parse_json(body) == {"text": text, "value": {"note": text}}


json_strings = st.text(alphabet='[]{}"\\ab\u00e9\U0001f600', max_size=12) | st.text(max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | json_strings,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(json_strings, children, max_size=3)
    ),
    max_leaves=30,
)


@settings(max_examples=300, derandomize=True, database=None)
@given(value=json_values, limit=st.integers(min_value=0, max_value=8), ascii_only=st.booleans())
def test_the_depth_measured_on_the_text_is_the_depth_of_the_value(
    value: Any, limit: int, ascii_only: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert nested_deeper_than(text, limit) == (depth_of(value) > limit)


def test_a_number_longer_than_python_reads_is_refused() -> None:
    with pytest.raises(JsonRefused) as refused:
        parse_json('{"version": ' + "9" * 5000 + "}")
    assert refused.value.reason == "number too long"
    assert "digits" in refused.value.message


@pytest.mark.parametrize("text", ["", "{", '{"a": }', "[1,]", "nope"])
def test_text_that_is_not_json_is_refused(text: str) -> None:
    with pytest.raises(JsonRefused) as refused:
        parse_json(text)
    assert refused.value.reason == "not JSON"


def test_bytes_that_are_no_text_are_refused_rather_than_read_as_surrogates() -> None:
    # UTF-8 bytes of a lone surrogate (U+D800), which json.loads(bytes) would have let in.
    with pytest.raises(JsonRefused) as refused:
        decode_json_text(b'{"text": "\xed\xa0\x80"}')
    assert refused.value.reason == "not UTF-8"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16-le", "utf-32-be"])
def test_the_encodings_json_allows_are_read_as_before(encoding: str) -> None:
    raw = json.dumps({"text": "Grüße ✓"}, ensure_ascii=False).encode(encoding)
    assert parse_json(decode_json_text(raw)) == json.loads(raw)
