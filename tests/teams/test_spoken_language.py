"""The language a turn speaks (teams/middleware.py SpokenLanguage) on botbuilder's TestAdapter
over a real SQLite file: a person's own choice, else their client's locale, else English; the
team's language in a channel or group chat; the outbox's own turns left as their sender set."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity

from handoff.models import AuditEntry, AuditKind, Person
from handoff.user_settings import UserSettings
from i18n import current, speaking
from storage.sql_store import SqlStore, open_store
from storage.user_settings_store import ChosenLanguages
from teams.activity_codec import read_activity
from teams.middleware import SpokenLanguage

from conftest import FakeClock
from harness.activities import channel_message, group_chat_message, personal_message
from harness.chat import template
from harness.ids import DEFAULT_USER

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SERVICE_URL = "https://smba.example/emea/"
PERSON = Person(id=DEFAULT_USER.id, name=DEFAULT_USER.name or "Ana")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", FakeClock(NOW))
    yield opened
    await opened.close()


async def choose_language(store: SqlStore, language: str | None) -> None:
    settings = UserSettings(person=PERSON, language=language)
    audit = AuditEntry(kind=AuditKind.SETTINGS_CHANGED, actor=PERSON, at=NOW, subject=PERSON.id)
    await store.save_user_settings(settings, audit)


async def spoken(store: SqlStore, activity: dict[str, Any] | Activity, team: str = "en") -> str:
    heard: list[str] = []

    async def logic() -> None:
        heard.append(current())

    incoming = activity if isinstance(activity, Activity) else read_activity(activity)
    context = TurnContext(TestAdapter(None, template()), incoming)
    await SpokenLanguage(store, team).on_turn(context, logic)
    assert current() == "en", "the turn's language must not outlive the turn"
    return heard[0]


async def test_a_person_who_chose_nothing_is_spoken_to_in_their_clients_language(
    store: SqlStore,
) -> None:
    assert await spoken(store, personal_message("help", SERVICE_URL, locale="de-DE")) == "de"
    assert await spoken(store, personal_message("help", SERVICE_URL, locale="zh-CN")) == "zh_Hans"
    assert await spoken(store, personal_message("help", SERVICE_URL, locale="ar-SA")) == "en"


async def test_a_persons_own_choice_wins_over_their_client_at_once(store: SqlStore) -> None:
    message = personal_message("help", SERVICE_URL, locale="de-DE")
    assert await spoken(store, message) == "de"
    await choose_language(store, "ja")
    assert await spoken(store, message) == "ja"
    await choose_language(store, None)
    assert await spoken(store, message) == "de"


async def test_a_channel_and_a_group_chat_speak_the_teams_language(store: SqlStore) -> None:
    await choose_language(store, "ja")
    channel = channel_message("status 1", SERVICE_URL, locale="de-DE")
    group = group_chat_message("status 1", SERVICE_URL, locale="de-DE")
    assert await spoken(store, channel, team="fr") == "fr"
    assert await spoken(store, group, team="pt_BR") == "pt_BR"


async def test_the_outboxs_own_turns_keep_the_language_their_sender_chose(
    store: SqlStore,
) -> None:
    proactive = Activity(type="event", name="ContinueConversation")
    proactive.conversation = read_activity(personal_message("x", SERVICE_URL)).conversation
    with speaking("es"):
        heard: list[str] = []

        async def logic() -> None:
            heard.append(current())

        context = TurnContext(TestAdapter(None, template()), proactive)
        await SpokenLanguage(store, "fr").on_turn(context, logic)
    assert heard == ["es"]


async def test_a_choice_saved_by_another_replica_is_seen_within_a_minute(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    here, there = await open_store(url, FakeClock(NOW)), await open_store(url, FakeClock(NOW))
    seconds = [0.0]
    here._chosen = ChosenLanguages(lambda: seconds[0])
    try:
        message = personal_message("help", SERVICE_URL, locale="en-US")
        assert await spoken(here, message) == "en"
        await choose_language(there, "fr")
        seconds[0] = ChosenLanguages.MAX_AGE_SECONDS / 2
        assert await spoken(here, message) == "en"  # read from memory, no round trip
        seconds[0] = ChosenLanguages.MAX_AGE_SECONDS + 1
        assert await spoken(here, message) == "fr"
    finally:
        await here.close()
        await there.close()


def test_only_the_last_minute_of_people_is_kept_in_memory() -> None:
    seconds = [0.0]
    chosen = ChosenLanguages(lambda: seconds[0])
    for n in range(5000):
        chosen.put(f"29:person-{n}", "fr" if n % 2 else None)
    seconds[0] = ChosenLanguages.MAX_AGE_SECONDS + 1
    assert chosen.get("29:person-1") == (False, None), "a minute old: read again"
    for n in range(5000):
        chosen.put(f"29:later-{n}", "de")
    assert len(chosen) < 2 * 5000, "the first minute's people swept out"
    assert chosen.get("29:later-4999") == (True, "de")
    assert chosen.get("29:later-0") == (True, "de")


def test_a_person_who_chose_no_language_costs_the_process_little() -> None:
    # Every person of the last minute is kept: most chose none, and for them the time it
    # was read is kept alone, 16 bytes (in a dict, with the language, ~150 bytes a person).
    chosen = ChosenLanguages(lambda: 5.0)
    people = [f"29:{'x' * 120}{n}" for n in range(3000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for person in people:
            chosen.put(person, None)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept / len(people) < 24, f"{kept / len(people):.0f} bytes a person"
    assert chosen.get(people[7]) == (True, None)
    chosen.put(people[7], "fr")
    assert chosen.get(people[7]) == (True, "fr")
    assert chosen.get(people[8]) == (True, None)
