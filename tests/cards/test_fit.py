"""The last check before a card is sent: within Teams' limit, and said in a line."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cards.elements import card, heading, submit, text, text_input
from cards.fit import CARD_LIMIT_BYTES, card_summary, default_summary, fit_card, utf16_bytes

from harness.card_schema import assert_valid_card
from harness.chat import all_text

BUTTONS = [submit("Next", {"form": "notes", "action": "next"})]


def test_a_card_that_fits_is_left_as_it_is() -> None:
    content = card([heading("Handoff of case 2311230040001234: the notes")], BUTTONS)
    fitted = fit_card(content)
    assert fitted.content is content
    assert fitted.left_out == ()
    assert fitted.summary == "Handoff of case 2311230040001234: the notes"


def test_the_summary_is_the_cards_own_line_in_plain_text() -> None:
    content = card(
        [heading("**Case** 2311230040001234")],
        summary="Requested by <at>Ana Lopez</at> · {{DATE(2026-11-24T10:00:00Z, SHORT)}}",
    )
    assert card_summary(content) == "Requested by Ana Lopez"
    assert card_summary(card([heading("**Case** 2311230040001234")])) == "Case 2311230040001234"
    assert card_summary(card([text("no heading")])) == default_summary()
    assert len(card_summary(card([heading("x" * 500)]))) == 150


def test_utf16_counts_what_json_escapes_and_what_needs_two_units() -> None:
    assert utf16_bytes("a") == 6  # "a" with its quotes
    assert utf16_bytes('"') == 8  # \" is two characters
    assert utf16_bytes("\U0001f600") == 8  # one emoji: two UTF-16 units


def test_a_card_too_large_is_cut_short_and_says_what_was_cut() -> None:
    typed = '\u00e9"' * 12_000
    content = card(
        [
            heading("Handoff of case 2311230040001234: the notes"),
            text("\u2764" * 15_000),
            text_input("summary", "Summary", typed, multiline=True, max_length=30_000),
        ],
        BUTTONS,
    )
    assert utf16_bytes(content) > CARD_LIMIT_BYTES
    fitted = fit_card(content)
    assert fitted.size <= CARD_LIMIT_BYTES < fitted.original_size
    assert_valid_card(fitted.content)
    shown = all_text(fitted.content)
    assert "too long for Teams" in shown
    assert "what you typed in “Summary” (check its end)" in shown
    assert fitted.content["actions"] == BUTTONS, "the buttons stay"
    assert fitted.summary == "Handoff of case 2311230040001234: the notes"


def test_a_card_of_countless_small_parts_is_replaced_by_a_short_one() -> None:
    content = card([heading("Open handoffs"), *(text(f"line {n}") for n in range(6_000))], BUTTONS)
    content["msteams"]["entities"] = [{"type": "mention", "text": "<at>x</at>"}]
    fitted = fit_card(content)
    assert fitted.size <= CARD_LIMIT_BYTES
    assert_valid_card(fitted.content)
    shown = all_text(fitted.content)
    assert shown.startswith("Open handoffs\nThis card was too large for Teams (")
    assert fitted.content["actions"] == BUTTONS
    assert "entities" not in fitted.content["msteams"], "no mention of what is left out"
    assert fitted.left_out == ("the card's details",)


# What a card holds: texts (any character, emoji and line separators too), whole numbers,
# flags, lists and objects of them.
CARD_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(CARD_VALUES)
def test_a_cards_size_is_its_compact_json_in_utf16(value: Any) -> None:
    compact = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert utf16_bytes(value) == len(compact.encode("utf-16-le"))
