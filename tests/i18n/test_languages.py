"""Which language a person is spoken to in: their own choice, else their Teams client's, else
English."""

from __future__ import annotations

import pytest

from i18n.languages import LANGUAGES, by_name, choose, from_tag


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("de-DE", "de"),
        ("de-AT", "de"),
        ("de", "de"),
        ("fr-CA", "fr"),
        ("es-MX", "es"),
        ("ja-JP", "ja"),
        ("zh-CN", "zh_Hans"),
        ("zh-Hans", "zh_Hans"),
        ("zh-Hans-SG", "zh_Hans"),
        ("zh_Hans", "zh_Hans"),
        ("pt-BR", "pt_BR"),
        ("pt-PT", "pt_BR"),
        ("pt_BR", "pt_BR"),
        ("EN-us", "en"),
        (" de-ch ", "de"),
    ],
)
def test_a_teams_locale_gives_the_language_we_speak_for_it(tag: str, code: str) -> None:
    assert from_tag(tag) == code


@pytest.mark.parametrize("tag", ["zh-TW", "zh-Hant", "zh-HK", "ar-SA", "he-IL", "", None, "-"])
def test_a_locale_we_do_not_speak_gives_none(tag: str | None) -> None:
    """Traditional Chinese readers are not shown Simplified Chinese: English instead."""
    assert from_tag(tag) is None
    assert choose(None, tag) == "en"


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("German", "de"),
        ("deutsch", "de"),
        ("Français", "fr"),
        ("español", "es"),
        ("日本語", "ja"),
        ("简体中文", "zh_Hans"),
        ("Chinese (Simplified)", "zh_Hans"),
        ("Português (Brasil)", "pt_BR"),
        ("pt-br", "pt_BR"),
        ("ja", "ja"),
    ],
)
def test_a_person_may_name_a_language_by_code_or_by_name(word: str, code: str) -> None:
    assert by_name(word) == code


def test_an_unknown_name_is_none() -> None:
    assert by_name("Klingon") is None


def test_the_persons_choice_wins_over_their_client_and_english_comes_last() -> None:
    assert choose("ja", "de-DE") == "ja"
    assert choose(None, "de-DE") == "de"
    assert choose(None, None) == "en"
    # A stored choice the bot no longer speaks is passed over, not obeyed.
    assert choose("xx", "fr-FR") == "fr"


def test_every_language_has_a_babel_locale_and_both_names() -> None:
    from babel import Locale

    for language in LANGUAGES.values():
        assert Locale.parse(language.babel_locale)
        assert language.english_name and language.native_name
