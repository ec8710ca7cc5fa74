"""Every card within Teams' size limit, with a short summary for notifications.

Teams refuses a bot message much above 28 KB, counting its JSON in UTF-16 (two bytes for each
character, four for one outside the Basic Multilingual Plane). The builders keep their cards far
below it: inputs never show more than their maxLength, long texts are clipped, long histories and
lists end with a "… N more" line. ``fit_card`` is the check before a card is sent, for whatever
a builder did not foresee (text full of characters that JSON escapes, say): a card over the limit
is shortened, with a notice at its top saying what was cut, rather than refused by Teams and lost.

A card that is still too big with every text clipped (thousands of tiny elements) is replaced by
a short card: its heading, what was left out, and its buttons when they fit.

``card_summary`` is the text Teams shows for the message in notifications and the chat list
instead of "Card": the card's own ``speak`` (its spoken summary, set by ``elements.card``), else
its first heading.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from i18n import _, ngettext

from .elements import Json, clip, text

# Teams' limit for a message, and what the activity around the card takes (ids, conversation,
# service URL, entities): the card and its summary get the rest.
MESSAGE_LIMIT_BYTES = 28 * 1024
ENVELOPE_BYTES = 1536
CARD_LIMIT_BYTES = MESSAGE_LIMIT_BYTES - ENVELOPE_BYTES
MAX_SUMMARY_CHARS = 150
# Each pass clips every text to this many characters, until the card fits.
_CLIP_STEPS = (2000, 1000, 500, 250, 120)


def default_summary() -> str:
    """The notification text of a card with neither a summary nor a heading."""
    return _("A card from the handoff bot")


def utf16_bytes(value: Any) -> int:
    """The size Teams counts: the compact JSON in UTF-16."""
    # orjson writes the compact form, unescaped, as json.dumps(..., ensure_ascii=False,
    # separators=(",", ":")) does.
    return len(orjson.dumps(value).decode().encode("utf-16-le"))


@dataclass(frozen=True)
class FittedCard:
    content: Json
    summary: str
    # Bytes of the card and its summary as sent, and before any shortening.
    size: int
    original_size: int
    # What was cut or left out, for the log (the card's notice says it to the reader).
    left_out: tuple[str, ...] = ()


_FUNCTION = re.compile(r"\{\{(?:DATE|TIME)\([^)]*\)\}\}")
_MENTION = re.compile(r"</?at>")
_MARKUP = re.compile(r"[*_`#]+")


def _plain(value: str) -> str:
    """Text as a notification shows it: no markdown, mention tags or date functions."""
    value = _MENTION.sub("", _FUNCTION.sub("", value))
    return " ".join(_MARKUP.sub("", value).split()).strip(" ·:")


def _blocks(node: Any) -> Iterator[Json]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _blocks(value)
    elif isinstance(node, list):
        for item in node:
            yield from _blocks(item)


def _heading(content: Json) -> str:
    for block in _blocks(content.get("body", [])):
        if block.get("type") == "TextBlock" and block.get("size") == "Large":
            return _plain(str(block.get("text", "")))
    return ""


def card_summary(content: Json) -> str:
    """The card's notification text: its ``speak``, else its heading, else a default."""
    said = _plain(str(content.get("speak") or "")) or _heading(content)
    return clip(said or default_summary(), MAX_SUMMARY_CHARS)


def _label(block: Json) -> str:
    return str(block.get("label") or block.get("id") or _("a box"))


def _clipped(content: Json, limit: int) -> tuple[Json, list[str], list[str]]:
    """A copy of the card with every text, fact and typed value cut to ``limit`` characters,
    and what was cut: the boxes by label, other texts together; for the reader, and in English
    for the log."""
    shortened = copy.deepcopy(content)
    boxes: list[str] = []
    texts = 0
    for block in _blocks(shortened):
        kind = block.get("type")
        if kind == "TextBlock" and len(str(block.get("text", ""))) > limit:
            block["text"] = clip(str(block["text"]), limit)
            texts += 1
        elif kind == "Input.Text" and len(str(block.get("value", ""))) > limit:
            # A value is what the person submits again: cut without an ellipsis, named below.
            block["value"] = str(block["value"])[:limit]
            boxes.append(_label(block))
        elif "facts" in block and isinstance(block["facts"], list):
            for fact in block["facts"]:
                if isinstance(fact, dict) and len(str(fact.get("value", ""))) > limit:
                    fact["value"] = clip(str(fact["value"]), limit)
                    texts += 1
    said = [_("what you typed in “{box}” (check its end)").format(box=box) for box in boxes]
    logged = [f"what was typed in “{box}”" for box in boxes]
    if texts:
        said.append(ngettext("{count} long text", "{count} long texts", texts).format(count=texts))
        logged.append(f"{texts} long text{'s' if texts > 1 else ''}")
    return shortened, said, logged


def _with_notice(content: Json, notice: str) -> Json:
    marked = dict(content)
    box = {"type": "Container", "style": "warning", "items": [text(notice)]}
    marked["body"] = [box, *content.get("body", [])]
    return marked


def _size(content: Json, summary: str) -> int:
    return utf16_bytes(content) + utf16_bytes(summary)


def _fallback(content: Json, summary: str, size: int, limit: int) -> Json:
    heading = _heading(content) or summary
    body: list[Json] = [
        {"type": "TextBlock", "text": clip(heading, 200), "size": "Large", "wrap": True},
        text(
            _(
                "This card was too large for Teams ({size} KB; the limit is about {limit} KB), "
                "so its details are left out here. Ask for it again once what it shows is "
                "shorter."
            ).format(size=round(size / 1024), limit=MESSAGE_LIMIT_BYTES // 1024)
        ),
    ]
    short: Json = {key: value for key, value in content.items() if key != "actions"}
    short["body"] = body
    # The mentions were of people named in the details left out.
    short["msteams"] = {
        key: value for key, value in content.get("msteams", {}).items() if key != "entities"
    }
    actions = content.get("actions")
    if actions and _size({**short, "actions": actions}, summary) <= limit:
        short["actions"] = actions
    return short


def fit_card(content: Json, limit: int = CARD_LIMIT_BYTES) -> FittedCard:
    """``content`` as it may be sent: itself when it fits, else shortened (see the module doc)."""
    summary = card_summary(content)
    original = _size(content, summary)
    if original <= limit:
        return FittedCard(content, summary, original, original)
    for step in _CLIP_STEPS:
        shortened, said, logged = _clipped(content, step)
        # Translators: {cut} lists what was cut, each part separated by "; ".
        notice = _("Part of this card was too long for Teams, so it is cut short here: {cut}.")
        candidate = _with_notice(shortened, notice.format(cut="; ".join(said)))
        size = _size(candidate, summary)
        if size <= limit:
            return FittedCard(candidate, summary, size, original, tuple(logged))
    short = _fallback(content, summary, original, limit)
    left_out = ("the card's details", *(() if "actions" in short else ("its buttons",)))
    return FittedCard(short, summary, _size(short, summary), original, left_out)
