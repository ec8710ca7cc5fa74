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


# Commands that only show something, answered mid-dialog without disturbing it, with the
# arguments each takes: a case number, a region (letters), or nothing.
_READ_ONLY = {
    "status": ("case",),
    "list": ("region?",),
    "agenda": ("region?",),
    "mine": (),
    "shifts": (),
    "help": (),
}
_CASE_NUMBER = re.compile(r"^\d[\d-]{5,24}$")
_REGION = re.compile(r"^[A-Za-z]{2,8}$")


def is_read_only(command: ParsedCommand, text: str | None) -> bool:
    """Whether a message typed mid-dialog is a read-only command, exactly as written: one
    line, its arguments of the command's kind. Anything else is an answer to the dialog (a
    pasted note that starts with "Status" or "List of ..." stays a note)."""
    expected = _READ_ONLY.get(command.name)
    if expected is None or "\n" in (text or "").strip():
        return False
    args = command.args
    required = [kind for kind in expected if not kind.endswith("?")]
    if not len(required) <= len(args) <= len(expected):
        return False
    patterns = {"case": _CASE_NUMBER, "region": _REGION, "region?": _REGION}
    return all(patterns[kind].match(arg) for kind, arg in zip(expected, args, strict=False))
