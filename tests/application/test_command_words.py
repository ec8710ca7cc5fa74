"""Each language's own command words: English always works, a language's words work besides
it (with or without accents), whatever the reader's language, and `help` lists them."""

from __future__ import annotations

from collections import defaultdict

import pytest

from application.router import BY_NAME, help_text, own_words, parse_command
from i18n import speaking
from i18n.languages import LANGUAGES

TRANSLATED = [code for code in LANGUAGES if code != "en"]


@pytest.mark.parametrize("code", TRANSLATED)
def test_english_words_work_in_every_language(code: str) -> None:
    with speaking(code):
        for name in BY_NAME:
            assert parse_command(f"{name} 2311230040001234").name == name


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_language_has_its_own_help_word_listed_in_its_help(code: str) -> None:
    words = own_words(code)
    help_words = [word for word, name in words.items() if name == "help"]
    assert help_words, f"{code} has no word of its own for help"
    with speaking(code):
        shown = help_text()
        for word, name in words.items():
            assert parse_command(word.upper() + " x").name == name
            assert f"**{word}** = {name}" in shown


def test_a_word_of_another_language_works_in_an_english_chat() -> None:
    assert parse_command("hilfe").name == "help"
    assert parse_command("/Übergabe 2311230040001234").name == "handoff"
    assert parse_command("ayuda").name == "help"
    assert parse_command("帮助").name == "help"


def test_accents_may_be_left_out_but_a_scripts_own_marks_stay() -> None:
    assert parse_command("ubergabe").name == "handoff"
    with speaking("ja"):
        japanese = {name: word for word, name in own_words("ja").items()}
    assert parse_command(japanese["shiftend"]).name == "shiftend"
    assert parse_command("nonsense").name == "nonsense"


def test_no_word_stands_for_two_commands_across_the_languages() -> None:
    meanings: dict[str, set[str]] = defaultdict(set)
    for code in LANGUAGES:
        for word, name in own_words(code).items():
            meanings[word].add(name)
    assert {word: names for word, names in meanings.items() if len(names) > 1} == {}


def test_english_help_lists_no_other_words() -> None:
    assert "In your language" not in help_text()
