"""The language of a turn: set around it, read by every text inside, reset after; a catalog
read from its .po when no compiled .mo is newer."""

from __future__ import annotations

import asyncio
import gettext

from i18n import _, catalogs, current, ngettext, pgettext, speaking


class _German(gettext.NullTranslations):
    def gettext(self, message: str) -> str:
        return {"Hello": "Hallo"}.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return "{count} Übergabe" if n == 1 else "{count} Übergaben"


def test_the_turns_language_holds_inside_and_is_reset_after() -> None:
    saved = catalogs._loaded.get("de")
    catalogs.register("de", _German())
    try:
        assert _("Hello") == "Hello"
        with speaking("de"):
            assert current() == "de"
            assert _("Hello") == "Hallo"
            assert ngettext("{count} handoff", "{count} handoffs", 2).format(count=2) == (
                "2 Übergaben"
            )
            with speaking("en"):
                assert _("Hello") == "Hello"
            assert _("Hello") == "Hallo"
        assert current() == "en"
    finally:
        if saved is None:
            catalogs._loaded.pop("de", None)
        else:
            catalogs._loaded["de"] = saved


def test_an_unknown_language_speaks_english() -> None:
    with speaking("xx"):
        assert current() == "en"
        assert _("Hello") == "Hello"
        assert pgettext("command", "help") == "help"


def test_concurrent_turns_keep_their_own_languages() -> None:
    async def turn(code: str) -> list[str]:
        seen = []
        with speaking(code):
            for _round in range(3):
                await asyncio.sleep(0)
                seen.append(current())
        return seen

    async def both() -> tuple[list[str], list[str]]:
        return await asyncio.gather(turn("de"), turn("ja"))

    german, japanese = asyncio.run(both())
    assert german == ["de"] * 3 and japanese == ["ja"] * 3


def test_each_catalog_is_read_from_its_po_once() -> None:
    catalogs._loaded.pop("fr", None)
    found = catalogs.translations("fr")
    assert isinstance(found, gettext.GNUTranslations)
    assert catalogs.translations("fr") is found
