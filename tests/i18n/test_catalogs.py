"""The catalogs are whole: every text of the code is in the template, every language translates
every text, and no translation breaks a placeholder or the markdown around it."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from i18n.catalogs import po_path
from i18n.extract import TEMPLATE, template
from i18n.languages import ENGLISH, LANGUAGES

TRANSLATED = [code for code in LANGUAGES if code != ENGLISH.code]
Key = tuple[str, str | None]


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def _key(message: Message) -> Key:
    return (message.id if isinstance(message.id, str) else message.id[0], message.context)


def _keys(catalog: Catalog) -> set[Key]:
    return {_key(message) for message in catalog if message.id}


def _forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_template_holds_every_text_marked_in_the_code() -> None:
    """A text added or changed in the code and not collected: run `make messages`."""
    in_code, in_template = _keys(template()), _keys(_read(TEMPLATE))
    assert not in_code - in_template, f"run `make messages`: {sorted(in_code - in_template)[:5]}"
    assert not in_template - in_code, f"run `make messages`: {sorted(in_template - in_code)[:5]}"


def test_every_text_of_the_code_names_its_placeholders() -> None:
    """`{}` and `{0}` tell a translator nothing and cannot be reordered safely."""
    for message in template():
        for text in _forms(message.id) if message.id else []:
            fields = _fields(text)
            assert all(field and not field.isdigit() for field in fields), text


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_language_translates_every_text(code: str) -> None:
    catalog = _read(po_path(code), LANGUAGES[code].babel_locale)
    expected = _keys(_read(TEMPLATE))
    assert _keys(catalog) == expected, f"run `make messages` for {code}"
    untranslated = [
        _key(message)[0]
        for message in catalog
        if message.id and (message.fuzzy or not all(_forms(message.string)))
    ]
    assert not untranslated, f"{code}: {len(untranslated)} texts untranslated: {untranslated[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_no_translation_breaks_a_placeholder_or_the_markdown(code: str) -> None:
    broken = []
    for message in _read(po_path(code), LANGUAGES[code].babel_locale):
        if not message.id:
            continue
        if not all(_forms(message.string)):
            continue  # untranslated: the completeness test says so
        source = _forms(message.id)
        wanted = set().union(*(_fields(text) for text in source))
        for text in _forms(message.string):
            try:
                fields = _fields(text)
                text.format(**{field: "x" for field in fields})
            except (ValueError, KeyError, IndexError) as problem:
                broken.append(f"{text!r}: {problem}")
                continue
            # Every form names only the source's placeholders; the singular of a plural may
            # leave the count out ("one handoff"), any other text keeps them all.
            if fields - wanted or (len(source) == 1 and fields != wanted):
                broken.append(f"{text!r} has {sorted(fields)}, the source {sorted(wanted)}")
            if text.count("**") % 2 or (("**" in source[0]) != ("**" in text)):
                broken.append(f"{text!r}: its bold markers do not pair like the source's")
    assert not broken, f"{code}: {broken[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_command_words_of_a_language_are_one_word_and_unique(code: str) -> None:
    catalog = _read(po_path(code), LANGUAGES[code].babel_locale)
    words = [
        m.string
        for m in catalog
        if m.context == "command" and isinstance(m.string, str) and m.string
    ]
    for word in words:
        assert re.fullmatch(r"\w+", word), f"{code}: the command word {word!r} is not one word"
    assert len(words) == len(set(word.casefold() for word in words)), f"{code}: {words}"
