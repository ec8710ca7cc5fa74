"""`settings`: what the bot knows of a person, changed and audited, as a use case over a real
SQLite file."""

from __future__ import annotations

import gettext
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import time
from pathlib import Path
from typing import ClassVar

import pytest

from application.outbox_steps.digest import DIGEST_SETTING
from application.personal_settings import only_leads_digest
from handoff.models import AuditKind, Person
from i18n import catalogs, current
from i18n.languages import LANGUAGES

from harness.scenario import ANA, LEAD, Scenario, open_scenario, process_with, texts


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    async for opened in open_scenario(tmp_path):
        yield opened


async def settings(scenario: Scenario, *args: str, zone: str | None = None) -> str:
    [said] = texts(
        await scenario.command("settings", scenario.request(ANA, *args, client_zone=zone))
    )
    return said


async def audited(scenario: Scenario) -> list[dict[str, object]]:
    return [
        entry.data
        for entry in reversed(await scenario.store.audit_entries())
        if entry.kind is AuditKind.SETTINGS_CHANGED and entry.actor.id == ANA.id
    ]


async def test_bare_settings_shows_the_defaults_and_changes_nothing(scenario: Scenario) -> None:
    said = await settings(scenario, zone="Europe/Berlin")
    assert said == (
        "**Your settings** — region: not set; time zone: Europe/Berlin, from your Teams "
        "client; working hours: your region's shift; reminders: on. Language: English (the "
        "default). Weekly digest to the Case Transfer channel (for the whole team): on."
    )
    assert await scenario.store.user_settings(ANA.id) is None
    assert await audited(scenario) == []


async def test_a_region_is_saved_and_audited(scenario: Scenario) -> None:
    said = await settings(scenario, "region", "emea")
    assert "region: EMEA" in said
    saved = await scenario.store.user_settings(ANA.id)
    assert saved is not None and saved.region == "EMEA"
    assert await audited(scenario) == [{"region": {"from": "", "to": "EMEA"}}]


async def test_hours_take_the_clients_zone_unless_one_is_saved(scenario: Scenario) -> None:
    said = await settings(scenario, "hours", "09:00-17:30", zone="Asia/Kolkata")
    assert "working hours: 09:00-17:30" in said and "time zone: Asia/Kolkata;" in said
    saved = await scenario.store.user_settings(ANA.id)
    assert saved is not None
    assert (saved.start, saved.end, saved.timezone) == (time(9), time(17, 30), "Asia/Kolkata")
    await settings(scenario, "zone", "Europe/Berlin")
    await settings(scenario, "hours", "08:00-16:00", zone="Asia/Kolkata")
    saved = await scenario.store.user_settings(ANA.id)
    assert saved is not None and saved.timezone == "Europe/Berlin"


async def test_mute_is_audited_once(scenario: Scenario) -> None:
    assert "reminders: muted" in await settings(scenario, "mute")
    assert "reminders: muted" in await settings(scenario, "MUTE")
    assert "reminders: on" in await settings(scenario, "unmute")
    assert await audited(scenario) == [
        {"muted": {"from": "on", "to": "muted"}},
        {"muted": {"from": "muted", "to": "on"}},
    ]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("region", "MARS"), "“MARS” is not a region; use one of EMEA, US, APAC, IST"),
        (("zone", "Mars/Olympus"), "Mars/Olympus"),
        (("hours", "nine-to-five"), "write working hours like 09:00-17:30"),
        (("colour", "blue"), "I know settings region, zone, hours, language, mute and unmute (and"),
    ],
)
async def test_a_setting_written_wrong_says_how_and_saves_nothing(
    scenario: Scenario, args: tuple[str, ...], problem: str
) -> None:
    said = await settings(scenario, *args)
    assert problem in said and "For example: **settings region EMEA**" in said
    assert await scenario.store.user_settings(ANA.id) is None
    assert await audited(scenario) == []


async def test_the_digest_is_the_leads_to_turn_off_and_on(tmp_path: Path) -> None:
    process = process_with(tmp_path, leads=[{"name": LEAD.name, "teams_id": LEAD.id}])
    async for scenario in open_scenario(tmp_path, process):

        async def say(actor: Person, *args: str, scenario: Scenario = scenario) -> str:
            [answer] = texts(await scenario.command("settings", scenario.request(actor, *args)))
            return answer

        assert await say(ANA, "digest", "off") == only_leads_digest()
        assert await scenario.store.get_setting(DIGEST_SETTING) is None
        assert (await say(LEAD, "DIGEST", "Off")).endswith("(for the whole team): off.")
        assert "(for the whole team): off." in await say(ANA)
        assert await say(LEAD, "digest", "off") == await say(LEAD, "digest", "off")
        assert (await say(LEAD, "digest")).startswith("Write **settings digest off**")
        assert (await say(LEAD, "digest", "on")).endswith("(for the whole team): on.")
        digest_audits = [
            e.data
            for e in reversed(await scenario.store.audit_entries())
            if e.subject == DIGEST_SETTING
        ]
        assert digest_audits == [
            {DIGEST_SETTING: {"from": "on", "to": "off"}},
            {DIGEST_SETTING: {"from": "off", "to": "on"}},
        ]
        assert await audited(scenario) == [], "Ana changed nothing"


class _Deutsch(gettext.NullTranslations):
    """A German catalog of a few texts: enough to see which language a reply is written in."""

    TEXTS: ClassVar[dict[str, str]] = {
        "From now on I write to you in {language}.": "Ab jetzt schreibe ich dir auf {language}.",
        "Language: {language}.": "Sprache: {language}.",
    }

    def gettext(self, message: str) -> str:
        return self.TEXTS.get(message, message)


@pytest.fixture
def german() -> Iterator[None]:
    before = catalogs.translations("de")
    catalogs.register("de", _Deutsch())
    yield
    catalogs.register("de", before)


async def language(scenario: Scenario, *words: str, locale: str | None = None) -> str:
    request = replace(scenario.request(ANA, "language", *words), locale=locale)
    [said] = texts(await scenario.command("settings", request))
    return said


async def chosen(scenario: Scenario) -> str | None:
    saved = await scenario.store.user_settings(ANA.id)
    return saved.language if saved else None


@pytest.mark.parametrize(
    ("words", "code"),
    [
        (("de",), "de"),
        (("de-DE",), "de"),
        (("pt-BR",), "pt_BR"),
        (("zh-Hans",), "zh_Hans"),
        (("Deutsch",), "de"),
        (("日本語",), "ja"),
        (("Português", "(Brasil)"), "pt_BR"),
        (("français",), "fr"),
        (("German",), "de"),
        (("spanish",), "es"),
        (("Chinese", "(Simplified)"), "zh_Hans"),
        (("Chinese",), "zh_Hans"),
    ],
)
async def test_a_language_is_chosen_by_code_tag_or_name(
    scenario: Scenario, words: tuple[str, ...], code: str
) -> None:
    said = await language(scenario, *words)
    assert await chosen(scenario) == code
    assert LANGUAGES[code].native_name in said


async def test_the_confirmation_is_already_in_the_new_language(
    scenario: Scenario, german: None
) -> None:
    said = await language(scenario, "Deutsch")
    assert said.startswith("Ab jetzt schreibe ich dir auf Deutsch. ")
    assert "Sprache: Deutsch." in said, "the summary too"
    assert current() == "en", "the turn itself goes on in its own language"
    assert "Language: Deutsch." in await settings(scenario), "English turn, German chosen"


async def test_auto_goes_back_to_the_teams_clients_language(scenario: Scenario) -> None:
    await settings(scenario, "region", "EMEA")
    await language(scenario, "ja")
    said = await language(scenario, "auto", locale="fr-FR")
    # Said at once in the client's language: French.
    assert said.startswith("Désormais, je vous écris dans la langue de votre client Teams")
    assert "Français" in said and "From now on" not in said
    saved = await scenario.store.user_settings(ANA.id)
    assert saved is not None and saved.language is None and saved.region == "EMEA"
    await language(scenario, "fr")
    said = await language(scenario, "DEFAULT")
    assert said.startswith(
        "From now on I write to you in the language of your Teams client when I speak it, "
        "else in English."
    )
    assert "Language: English (the default)." in said
    assert await chosen(scenario) is None


async def test_an_unknown_language_says_which_we_speak_and_loses_nothing(
    scenario: Scenario,
) -> None:
    await settings(scenario, "region", "EMEA")
    await settings(scenario, "mute")
    await language(scenario, "es")
    before = await scenario.store.user_settings(ANA.id)
    audits = await audited(scenario)
    said = await language(scenario, "Klingon")
    assert said.startswith("I don't know the language “Klingon”. I speak English, Deutsch, ")
    assert "日本語, 简体中文, and Português (Brasil)." in said
    assert "**settings language Deutsch**" in said and "**settings language auto**" in said
    assert await scenario.store.user_settings(ANA.id) == before
    assert await audited(scenario) == audits
    for other in ("zh-TW", "Portuguese (Portugal)"):
        assert (await language(scenario, other)).startswith("I don't know the language")
    assert await chosen(scenario) == "es"


async def test_language_alone_says_what_it_is_and_how_to_change_it(scenario: Scenario) -> None:
    said = await language(scenario, locale="de-AT")
    assert said.startswith("Language: from Teams (Deutsch). I speak English, Deutsch, ")
    assert "**settings language pt-BR**" in said
    assert await scenario.store.user_settings(ANA.id) is None


async def test_a_change_of_language_is_audited(scenario: Scenario) -> None:
    await language(scenario, "de")
    await language(scenario, "Deutsch")
    await language(scenario, "auto")
    await language(scenario, "auto")
    assert await audited(scenario) == [
        {"language": {"from": "", "to": "de"}},
        {"language": {"from": "de", "to": ""}},
    ]


async def test_the_summary_names_the_language_chosen_or_the_clients(scenario: Scenario) -> None:
    request = replace(scenario.request(ANA), locale="ja-JP")
    [said] = texts(await scenario.command("settings", request))
    assert "reminders: on. Language: from Teams (日本語). Weekly digest" in said
    await language(scenario, "pt-BR")
    [said] = texts(await scenario.command("settings", request))
    assert "Language: Português (Brasil)." in said
