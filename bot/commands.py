"""Turns what a user typed (or an @mention in a channel) into a command and its arguments."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    args: tuple[str, ...]
    text: str


def parse_command(text: str | None) -> ParsedCommand:
    """The first word is the command (case-insensitive, a leading '/' allowed); the rest
    are its arguments. Mentions and markup Teams leaves in the text are dropped."""
    cleaned = html.unescape(_TAG.sub(" ", _AT_TAG.sub(" ", text or "")))
    words = cleaned.split()
    if not words:
        return ParsedCommand(name="", args=(), text="")
    return ParsedCommand(
        name=words[0].lstrip("/").lower(), args=tuple(words[1:]), text=" ".join(words)
    )
