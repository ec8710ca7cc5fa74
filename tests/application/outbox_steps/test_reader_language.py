"""The language of what the bot says on its own (application/outbox_steps/reader_language.py):
a person's own choice (`settings language`), else the locale their Teams client reported in
their chat with the bot, else English; on a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from application.outbox_steps.reader_language import language_of, speaking_to
from handoff.models import Person
from handoff.user_settings import UserSettings
from i18n import _, current

from conftest import FakeClock
from harness import records
from harness.fake_connector import FakeConnector
from harness.outbox_steps import StepWorld, step_world, translated

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
# A lead as the process file names them: by directory id only.
LEE = Person(id="aad-lee", name="Lee Lead", aad_object_id="aad-lee")
# The same lead as Teams knows them, once they chatted with the bot.
LEE_IN_TEAMS = Person(id="29:lee", name="Lee Lead", aad_object_id="aad-lee")


@pytest.fixture
async def world(tmp_path: Path, fake_connector: FakeConnector) -> AsyncIterator[StepWorld]:
    async with step_world(tmp_path, FakeClock(NOW), fake_connector) as opened:
        yield opened


async def chose(world: StepWorld, person: Person, language: str) -> None:
    settings = UserSettings(person=person, language=language)
    await world.store.save_user_settings(settings, records.said_by(person, settings, world.clock))


async def test_a_person_who_chose_a_language_gets_it_whatever_their_client_says(
    world: StepWorld,
) -> None:
    await world.personal_chat(ANA, locale="fr-FR")
    await chose(world, ANA, "de")
    assert await language_of(world.store, ANA) == "de"


async def test_without_a_choice_the_locale_of_their_teams_client_decides(
    world: StepWorld,
) -> None:
    await world.personal_chat(ANA, locale="fr-FR")
    assert await language_of(world.store, ANA) == "fr"


@pytest.mark.parametrize("locale", [None, "zh-TW", "nl-NL"])
async def test_otherwise_english(world: StepWorld, locale: str | None) -> None:
    await world.personal_chat(ANA, locale=locale)
    assert await language_of(world.store, ANA) == "en"


async def test_someone_the_bot_cannot_reach_is_written_to_in_english(world: StepWorld) -> None:
    assert await language_of(world.store, ANA) == "en"


async def test_a_lead_named_by_directory_id_gets_the_language_they_chose_in_teams(
    world: StepWorld,
) -> None:
    await world.personal_chat(LEE_IN_TEAMS, locale="fr-FR")
    await chose(world, LEE_IN_TEAMS, "ja")
    assert await language_of(world.store, LEE) == "ja"


async def test_what_is_written_inside_is_in_their_language_and_english_after(
    world: StepWorld,
) -> None:
    await world.personal_chat(ANA, locale="de-AT")
    with translated("de", {"Hello": "Hallo"}):
        async with speaking_to(world.store, ANA):
            assert (current(), _("Hello")) == ("de", "Hallo")
        assert (current(), _("Hello")) == ("en", "Hello")
