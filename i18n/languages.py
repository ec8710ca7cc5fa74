"""The languages the bot speaks, and which one a person gets: their own choice (`settings
language`), else the locale their Teams client reports, else English."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Language:
    code: str
    # Babel's name for the locale whose dates, numbers and lists this language uses.
    babel_locale: str
    english_name: str
    native_name: str


ENGLISH = Language("en", "en", "English", "English")
LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        ENGLISH,
        Language("de", "de_DE", "German", "Deutsch"),
        Language("fr", "fr_FR", "French", "Français"),
        Language("es", "es_ES", "Spanish", "Español"),
        Language("ja", "ja_JP", "Japanese", "日本語"),
        Language("zh_Hans", "zh_Hans_CN", "Chinese (Simplified)", "简体中文"),
        Language("pt_BR", "pt_BR", "Portuguese (Brazil)", "Português (Brasil)"),
    )
}

# Teams reports a BCP 47 tag ("de-DE", "zh-CN", "pt-PT"); what each language tag maps to when
# its region or script is not one of ours. Traditional Chinese is not Simplified Chinese, so
# zh-TW and zh-HK fall back to English rather than to a script its readers may not read.
_BY_TAG: dict[str, str] = {
    "zh-hans": "zh_Hans",
    "zh-cn": "zh_Hans",
    "zh-sg": "zh_Hans",
    "zh": "zh_Hans",
    "pt": "pt_BR",
}
_NOT_OURS = ("zh-hant", "zh-tw", "zh-hk", "zh-mo")


def from_tag(tag: str | None) -> str | None:
    """Our language for a locale tag as Teams sends it, or as a person writes it (`de`,
    `de-DE`, `de_DE`, `pt-BR`, `zh-Hans`); None when we do not speak it."""
    if not tag:
        return None
    wanted = tag.strip().replace("_", "-").lower()
    if not wanted or any(wanted.startswith(other) for other in _NOT_OURS):
        return None
    for code in LANGUAGES:
        if wanted == code.replace("_", "-").lower():
            return code
    for prefix, code in _BY_TAG.items():
        if wanted == prefix or wanted.startswith(prefix + "-"):
            return code
    base = wanted.split("-")[0]
    return base if base in LANGUAGES and base not in ("zh", "pt") else None


def by_name(word: str) -> str | None:
    """Our language for what a person may type in `settings language …`: a code or tag
    (`de`, `pt-BR`), or a name in English or in the language itself (`German`, `Deutsch`)."""
    wanted = word.strip().casefold()
    for language in LANGUAGES.values():
        if wanted in (language.english_name.casefold(), language.native_name.casefold()):
            return language.code
    return from_tag(word)


def choose(chosen: str | None, client_locale: str | None) -> str:
    """The language to speak to a person: their own choice, else their client's, else English."""
    if chosen in LANGUAGES:
        return chosen
    return from_tag(client_locale) or ENGLISH.code
