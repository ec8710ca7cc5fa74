"""`make messages`: collect every text marked for translation from the product's code into
i18n/messages.pot, and bring each language's .po up to date with it (new texts empty, texts
gone made obsolete), as `pybabel extract` and `pybabel update` would."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract, extract_from_dir
from babel.messages.pofile import read_po, write_po

from .catalogs import CATALOG_DIR, po_path
from .languages import ENGLISH, LANGUAGES

LOG = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = CATALOG_DIR.parent / "messages.pot"
# Where the bot's words are; tests, the bench and the scripts speak to developers only.
SOURCES = ("app.py", "application", "cards", "dialogs", "handoff", "teams", "outbox", "i18n")
KEYWORDS = {
    "_": None,
    "N_": None,
    "NC_": ((1, "c"), 2),
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
}
# The translator's note written beside a text: a comment starting "Translators:" above it.
COMMENT_TAGS = ["Translators:"]
# A fixed date in the headers, so a catalog changes only when its texts do.
_STABLE_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def template() -> Catalog:
    """Every marked text of the code, with where it is and its note for translators."""
    catalog = Catalog(
        project="handoff-bot", charset="utf-8", fuzzy=False, creation_date=_STABLE_DATE
    )
    for entry in SOURCES:
        path = ROOT / entry
        if path.is_file():
            found = _extract_file(path)
        else:
            found = (
                (f"{entry}/{name}", line, message, comments, context)
                for name, line, message, comments, context in extract_from_dir(
                    str(path),
                    method_map=[("**.py", "python")],
                    keywords=KEYWORDS,
                    comment_tags=COMMENT_TAGS,
                    strip_comment_tags=True,
                )
            )
        for filename, line, message, comments, context in found:
            catalog.add(
                message,
                locations=[(filename, line)],
                auto_comments=comments,
                context=context,
                flags=("python-brace-format",) if _braces(message) else (),
            )
    return catalog


def _braces(message: str | tuple[str, ...]) -> bool:
    texts = (message,) if isinstance(message, str) else message
    return any("{" in text for text in texts)


Found = tuple[str, int, str | tuple[str, ...], list[str], str | None]


def _extract_file(path: Path) -> Iterator[Found]:
    with path.open("rb") as source:
        for line, message, comments, context in extract(
            "python", source, keywords=KEYWORDS, comment_tags=COMMENT_TAGS, strip_comment_tags=True
        ):
            yield path.name, line, message, comments, context


def update(catalog_dir: Path = CATALOG_DIR) -> None:
    """Writes the template beside ``catalog_dir`` and brings each language's .po in it up to
    date: translations kept, new texts empty, texts gone dropped."""
    pot = template()
    template_path = catalog_dir.parent / TEMPLATE.name
    with template_path.open("wb") as out:
        write_po(out, pot, width=100, omit_header=False, sort_output=False)
    for code, language in LANGUAGES.items():
        if code == ENGLISH.code:
            continue
        path = po_path(code, catalog_dir)
        if path.exists():
            with path.open("rb") as source:
                catalog = read_po(source, locale=language.babel_locale)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(
                locale=language.babel_locale, project="handoff-bot", creation_date=_STABLE_DATE
            )
        catalog.update(pot, no_fuzzy_matching=True)
        with path.open("wb") as out:
            write_po(out, catalog, width=100, ignore_obsolete=True)
        missing = sum(1 for message in catalog if message.id and not message.string)
        LOG.info("%s: %d texts untranslated", path, missing)
    LOG.info("%s: %d texts", template_path, len(pot))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    update()
