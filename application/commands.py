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


# How each command is written: the kind of each argument it takes ("?" optional, "*" any
# words to the end). A message is taken for a command only when it is written so; anything
# else may be an answer (to the dialog's step, to a question waiting for its requester).
_SHAPES: dict[str, tuple[str, ...]] = {
    "status": ("case?",),
    "list": ("region?",),
    "agenda": ("region?",),
    "mine": (),
    "shifts": (),
    "help": (),
    "handoff": ("case?",),
    "escalate": ("case", "technical?"),
    "longrunning": ("case", "words*"),
    "settings": ("setting?", "words*"),
    "oof": (),
    "setup": (),
    "audit": (),
    "outbox": ("words*",),
    "shiftend": ("words*",),
}
# The commands that only show something: answered mid-dialog without disturbing it.
_READ_ONLY = frozenset({"status", "list", "agenda", "mine", "shifts", "help"})
_PATTERNS = {
    "case": re.compile(r"^\d[\d-]{5,24}$"),
    "region": re.compile(r"^[A-Za-z]{2,8}$"),
    "technical": re.compile(r"^technical$", re.IGNORECASE),
    "setting": re.compile(r"^(?:region|zone|hours|mute|unmute)$", re.IGNORECASE),
    "words": re.compile(r"."),
}


def is_exact_command(command: ParsedCommand, text: str | None) -> bool:
    """Whether the message is a command written as the command is: one line, each argument
    of its kind. "Status of the cluster: healthy" or "Help from PG is on the way" is not."""
    shape = _SHAPES.get(command.name)
    if shape is None or "\n" in (text or "").strip():
        return False
    args = list(command.args)
    for position, kind in enumerate(shape):
        name = kind.rstrip("?*")
        if kind.endswith("*"):
            return all(_PATTERNS[name].match(arg) for arg in args)
        if not args:
            return all(k.endswith(("?", "*")) for k in shape[position:])
        if not _PATTERNS[name].match(args[0]):
            return False
        args.pop(0)
    return not args


def is_read_only(command: ParsedCommand, text: str | None) -> bool:
    """Whether a message typed mid-dialog is a read-only command, exactly as written.
    Anything else is an answer to the dialog (a pasted note that starts with "Status" or
    "List of ..." stays a note)."""
    showing_settings = command.name == "settings" and not command.args
    return (command.name in _READ_ONLY or showing_settings) and is_exact_command(command, text)
