"""Dates, numbers and lists as each language writes them, in the reader's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from i18n import formats, speaking

WINTER = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("en", "Thu Dec 3, 2026, 6:00 PM GMT"),
        ("de", "Do. 03.12.2026, 18:00 GMT"),
        ("fr", "jeu. 3 déc. 2026 à 18:00 GMT"),
        ("es", "jue. 3 dic. 2026 18:00 GMT"),
        ("ja", "木 2026/12/03 18:00 GMT"),
        ("zh_Hans", "周四 2026年12月3日 下午6:00 GMT"),
        ("pt_BR", "qui. 3 de dez. de 2026 18:00 GMT"),
    ],
)
def test_a_moment_reads_as_the_language_writes_it(code: str, expected: str) -> None:
    with speaking(code):
        assert formats.when(WINTER, "Europe/London") == expected


def test_the_zone_is_the_readers_with_its_abbreviation_across_the_dst_change() -> None:
    # London and Los Angeles change on different Sundays; each hour of the spring change day
    # shows the offset in force then.
    start = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    seen = set()
    with speaking("de"):
        for hour in range(24):
            shown = formats.when(start + timedelta(hours=hour), "Europe/London")
            seen.add(shown.rsplit(" ", 1)[1])
            # 23:00 UTC is already Monday in London, an hour ahead by then.
            assert shown.startswith("Mo. 30.03.2026, 00:00" if hour == 23 else "So. 29.03.2026")
    assert seen == {"GMT", "BST"}
    with speaking("en"):
        assert formats.when(WINTER, "Asia/Kolkata").endswith("11:30 PM IST")
        assert formats.when(WINTER, "America/Los_Angeles").endswith("10:00 AM PST")
        # A zone whose abbreviation is a number is written as an offset.
        assert formats.when(WINTER, "Asia/Dubai").endswith("10:00 PM UTC+04:00")


def test_an_unknown_zone_falls_back_to_utc_rather_than_failing() -> None:
    with speaking("en"):
        assert formats.when(WINTER, "Mars/Olympus").endswith("6:00 PM UTC")


def test_times_and_days_alone() -> None:
    with speaking("ja"):
        assert formats.time_of_day(WINTER, "Asia/Tokyo") == "3:00"
        assert formats.day(WINTER, "Asia/Tokyo") == "2026/12/04"
    with speaking("en"):
        assert formats.time_of_day(WINTER, "UTC") == "6:00 PM"


def test_lists_numbers_and_shares() -> None:
    names = ["Ana", "Bo", "Chen"]
    cases = {
        "en": ("Ana, Bo, and Chen", "Ana, Bo, or Chen", "12,345.5", "50%"),
        "de": ("Ana, Bo und Chen", "Ana, Bo oder Chen", "12.345,5", "50\xa0%"),
        "ja": ("Ana、Bo、Chen", None, "12,345.5", "50%"),
        "pt_BR": ("Ana, Bo e Chen", "Ana, Bo ou Chen", "12.345,5", "50%"),
    }
    for code, (joined, alternatives, number, share) in cases.items():
        with speaking(code):
            assert formats.listing(names) == joined
            if alternatives:
                assert formats.listing(names, alternatives=True) == alternatives
            assert formats.number(12345.5, 1) == number
            assert formats.percent(0.5) == share
            assert formats.listing([]) == ""
            assert formats.listing(["Ana"]) == "Ana"


def test_a_sentence_starts_with_its_first_letter_upper_case_and_nothing_else_changes() -> None:
    assert formats.capitalized("letzte Woche") == "Letzte Woche"
    assert formats.capitalized("⟦this week⟧") == "⟦This week⟧"
    assert formats.capitalized("今週") == "今週"
    assert formats.capitalized("") == ""
