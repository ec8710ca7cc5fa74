"""`settings`: what the bot knows of a person, changed and audited, as a use case over a real
SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time
from pathlib import Path

import pytest

from handoff.models import AuditKind

from harness.scenario import ANA, Scenario, open_scenario, texts


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
        "client; working hours: your region's shift; reminders: on."
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
        (("colour", "blue"), "I know settings region, zone, hours, mute and unmute"),
    ],
)
async def test_a_setting_written_wrong_says_how_and_saves_nothing(
    scenario: Scenario, args: tuple[str, ...], problem: str
) -> None:
    said = await settings(scenario, *args)
    assert problem in said and "For example: **settings region EMEA**" in said
    assert await scenario.store.user_settings(ANA.id) is None
    assert await audited(scenario) == []
