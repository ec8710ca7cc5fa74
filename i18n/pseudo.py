"""Pseudo-localization: every text that comes from a catalog is shown between ⟦ and ⟧, so
English outside the brackets is a text that never went through one (a forgotten `_()`).

Only what is said in a reader's language (inside ``i18n.speaking``: every turn, every message
the outbox writes for someone) is bracketed; a test's own calls outside them read English.
The placeholders are filled in after the lookup, so they land inside the brackets too.
Turned on for the tests' pseudo-localized run (tests/conftest.py, --pseudo-localize), and
for the playground with PSEUDO_LOCALIZE=1 in the environment."""

from __future__ import annotations

import gettext

OPEN, CLOSE = "⟦", "⟧"


def bracketed(text: str) -> str:
    return f"{OPEN}{text}{CLOSE}" if text else text


class PseudoTranslations(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return bracketed(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return bracketed(msgid1 if n == 1 else msgid2)

    def pgettext(self, context: str, message: str) -> str:
        # Command words stay as they are: they are what a person types, not what they read.
        return message if context == "command" else bracketed(message)

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return bracketed(msgid1 if n == 1 else msgid2)


def outside_brackets(text: str) -> str:
    """What is left of ``text`` once every bracketed part (nested ones too) is taken out."""
    kept: list[str] = []
    depth = 0
    for char in text:
        if char == OPEN:
            depth += 1
        elif char == CLOSE and depth:
            depth -= 1
        elif not depth:
            kept.append(char)
    return "".join(kept)
