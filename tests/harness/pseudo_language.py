"""A made-up language for the tests: every text that goes through the catalogs comes back in
⟦brackets⟧, so a test sees which words a reader of another language would get translated and
which were left in English (the values put into a text land inside its brackets)."""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterator
from contextlib import contextmanager

from i18n import speaking
from i18n.catalogs import register

CODE = "x-pseudo"
_MARKED = re.compile(r"⟦[^⟦⟧]*⟧")
# An English word of three letters or more, lower case: names, codes and dates are not.
_ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")


class _Bracketed(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return f"⟦{message}⟧"

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return f"⟦{msgid1 if n == 1 else msgid2}⟧"

    def pgettext(self, context: str, message: str) -> str:
        return f"⟦{message}⟧"


@contextmanager
def speaking_pseudo() -> Iterator[None]:
    """Everything said inside is in the made-up language."""
    register(CODE, _Bracketed())
    with speaking(CODE):
        yield


def untranslated(text: str) -> list[str]:
    """The English words of ``text`` outside every translated text."""
    while (stripped := _MARKED.sub(" ", text)) != text:
        text = stripped
    return _ENGLISH_WORD.findall(text)
