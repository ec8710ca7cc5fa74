"""`settings`: what the bot knows of a person, changed and audited, as a use case over a real
SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import time
from pathlib import Path

import pytest

from application.outbox_steps.digest import DIGEST_SETTING
from application.personal_settings import ONLY_LEADS_DIGEST
from handoff.models import AuditKind, Person

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
        "client; working hours: your region's shift; reminders: on. Weekly digest to the "
        "Case Transfer channel (for the whole team): on."
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
        (("colour", "blue"), "I know settings region, zone, hours, mute and unmute (and, for team"),
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

        assert await say(ANA, "digest", "off") == ONLY_LEADS_DIGEST
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
