"""The message catalogs (gettext .po files, compiled to .mo when read), one per language, and
the language the current turn speaks.

Which language is spoken is a context variable, set where a turn or a proactive message
begins (``speaking``), so a text anywhere below (a use case, a card, a domain error) is
written in the reader's language without each function passing the language on; asyncio
copies it into every task a turn starts."""

from __future__ import annotations

import contextvars
import gettext
import io
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .languages import ENGLISH, LANGUAGES

LOG = logging.getLogger(__name__)

CATALOG_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"

_speaking: contextvars.ContextVar[str] = contextvars.ContextVar("speaking", default=ENGLISH.code)
_loaded: dict[str, gettext.NullTranslations] = {}


def po_path(code: str, catalog_dir: Path = CATALOG_DIR) -> Path:
    return catalog_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def _compiled(code: str) -> gettext.NullTranslations:
    # The .po is compiled in memory when the language is first spoken (tens of milliseconds),
    # so no build step can leave a stale .mo behind. Fuzzy entries stay out, as msgfmt's do.
    # Imported here: Babel's catalog reader costs start-up 0.1 s, and English never needs it.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po_path(code).open("rb") as source:
        catalog = read_po(source, locale=LANGUAGES[code].babel_locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translations(code: str) -> gettext.NullTranslations:
    """The catalog of a language, read once; English (the source texts) has none."""
    found = _loaded.get(code)
    if found is None:
        if code == ENGLISH.code or code not in LANGUAGES or not po_path(code).exists():
            found = gettext.NullTranslations()
        else:
            found = _compiled(code)
        _loaded[code] = found
    return found


def register(code: str, catalog: gettext.NullTranslations) -> None:
    """Use ``catalog`` for ``code`` (pseudo-localization in the tests)."""
    _loaded[code] = catalog


PSEUDO = "qps"
_pseudo = False


def use_pseudo() -> None:
    """Whatever language a turn or a message speaks, its texts come out bracketed
    (i18n/pseudo.py), to find the texts that are not in a catalog, and the texts said where
    no reader's language was chosen (outside every ``speaking``: English, unbracketed)."""
    from .pseudo import PseudoTranslations

    global _pseudo
    _loaded[PSEUDO] = PseudoTranslations()
    _pseudo = True


def current() -> str:
    """The language the current turn speaks."""
    return _speaking.get()


@contextmanager
def speaking(code: str) -> Iterator[None]:
    """Everything said inside is in ``code`` (a code of LANGUAGES; anything else is English)."""
    if _pseudo:
        code = PSEUDO
    token = _speaking.set(code if code in LANGUAGES or code in _loaded else ENGLISH.code)
    try:
        yield
    finally:
        _speaking.reset(token)


if os.environ.get("PSEUDO_LOCALIZE") == "1":
    use_pseudo()


@contextmanager
def in_english() -> Iterator[None]:
    """The texts inside are for tools (the notes' labels), in English whatever the reader's
    language, and in the pseudo-localized run too."""
    token = _speaking.set(ENGLISH.code)
    try:
        yield
    finally:
        _speaking.reset(token)


def _(message: str) -> str:
    """``message`` in the current language (the English text when it has no translation)."""
    return translations(_speaking.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for ``n``, by the current language's plural rules."""
    return translations(_speaking.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, translated for ``context`` (a command word, a
    short label that means different things in different places)."""
    return translations(_speaking.get()).pgettext(context, message)


def NC_(context: str, message: str) -> str:
    """Marks a text with its context (pgettext's) for the catalogs where it is defined."""
    del context
    return message


def N_(message: str) -> str:
    """Marks a text for the catalogs where it is defined; translate it with _() where shown."""
    return message
