"""What people read is plain words: no rule ids of the spec ("R-STAY"), no source documents
("seed 001"), no odd units ("0.1 h"). Ids stay in code and logs. Used wherever the tests see
what the bot shows: every card validated (card_schema.assert_valid_card), every turn of the
dialog tests (chat.Chat), every activity the fake connector received (its fixture)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .pseudo_locale import assert_translated

# A rule id of the spec (R-STAY, R-24x7, R-NON24x7-3), a seed document, a duration in hours
# written as a decimal with a bare "h".
JARGON = re.compile(r"\bR-[A-Z0-9]|\b[Ss]eed 0\d\d|\b\d+(?:\.\d+)? h\b")

# Card keys whose values no one reads: what the card sends back, how it is built.
_HIDDEN_KEYS = frozenset(
    {"data", "id", "verb", "type", "$schema", "version", "url", "style", "msteams", "fallback"}
    # How a card is laid out.
    | {"size", "weight", "color", "spacing", "horizontalAlignment", "width", "height"}
    | {"fontType"}
)


def visible_strings(node: Any, inputs: bool = False) -> list[str]:
    """Every string a card (or an activity) shows a reader as the bot's words: not the text
    shown in monospace to be copied into the case tool (the notes, the process's own, in
    English), nor what an input holds or sends back (the person's answers, a choice's value)."""
    if isinstance(node, dict) and node.get("fontType") == "Monospace":
        return []
    if isinstance(node, dict):
        typed = inputs or str(node.get("type", "")).startswith("Input.")
        return [
            text
            for key, value in node.items()
            if key not in _HIDDEN_KEYS and not (typed and key == "value")
            for text in visible_strings(value, typed)
        ]
    if isinstance(node, list):
        return [text for item in node for text in visible_strings(item, inputs)]
    return [node] if isinstance(node, str) else []


def jargon_in(strings: Iterable[str]) -> list[str]:
    """The strings that show a rule id, a seed or an odd unit, each cut to what is around it."""
    found = []
    for text in strings:
        match = JARGON.search(text)
        if match:
            start = max(match.start() - 40, 0)
            found.append(text[start : match.end() + 40])
    return found


def activity_strings(activity: dict[str, Any]) -> list[str]:
    """What a person sees of an activity the bot sent: its text and its cards."""
    strings = [str(activity.get("text") or "")]
    for attachment in activity.get("attachments") or []:
        strings += visible_strings(attachment.get("content"))
    return strings


def assert_plain_words(
    strings: Iterable[str], where: str = "what the bot shows", *, as_sent: bool = True
) -> None:
    """No jargon; and, in the pseudo-localized run, for what is read ``as_sent`` (with its
    brackets, not a copy a test already read), no text that is in no catalog."""
    strings = list(strings)
    if as_sent:
        assert_translated(strings, where)
    found = jargon_in(strings)
    assert not found, f"{where} shows spec ids or odd units: {found[:5]}"
