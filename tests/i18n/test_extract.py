"""`make messages`: what the collection finds in the code, and how it updates a language's
catalog without losing a translation."""

from __future__ import annotations

import shutil
from pathlib import Path

from babel.messages.pofile import read_po, write_po

from i18n.catalogs import CATALOG_DIR, po_path
from i18n.extract import template, update


def test_the_template_holds_contexts_plurals_notes_and_placeholders() -> None:
    found = template()
    help_word = found.get("help", context="command")
    assert help_word is not None, "the command words are collected with their context"
    plurals = [m for m in found if isinstance(m.id, tuple)]
    assert plurals and all(len(m.id) == 2 for m in plurals)
    with_notes = [m for m in found if m.auto_comments]
    assert any("{region}" in " ".join(m.auto_comments) for m in with_notes)
    braces = [m for m in found if m.id and "{" in str(m.id)]
    assert braces and all("python-brace-format" in m.flags for m in braces)
    for message in found:
        for location, _line in message.locations:
            assert not location.startswith(("tests/", "bench/", "scripts/")), location


def test_an_update_keeps_translations_adds_new_texts_empty_and_drops_old_ones(
    tmp_path: Path,
) -> None:
    catalogs = tmp_path / "locale"
    shutil.copytree(CATALOG_DIR, catalogs)
    german = po_path("de", catalogs)
    with german.open("rb") as source:
        catalog = read_po(source, locale="de_DE")
    kept = next(m for m in catalog if m.id and isinstance(m.id, str) and not m.context)
    kept.string = "Behalten"
    catalog.add("A text the code no longer has", string="Alt")
    removed = next(m for m in catalog if m.id and m.id != kept.id and isinstance(m.id, str))
    removed_id = removed.id
    catalog.delete(removed.id, context=removed.context)
    with german.open("wb") as out:
        write_po(out, catalog)

    update(catalogs)

    with german.open("rb") as source:
        updated = read_po(source, locale="de_DE")
    assert updated.get(kept.id).string == "Behalten"
    assert updated.get("A text the code no longer has") is None
    back = updated.get(removed_id, context=removed.context)
    assert back is not None and not back.string
    assert (tmp_path / "messages.pot").exists()
