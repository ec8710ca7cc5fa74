"""R-OOF as use cases over a real SQLite file: `oof` shows the form; sent back, the critical
cases the person owns get a warm handoff to the teammate, the others go on the Team Leader's
list, and a reminder to take them back waits for 09:00 on the day of return, in the person's
zone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from application import messages
from application.transfers import CardAction
from cards.oof_card import OOF_FORM
from handoff import effects
from handoff.models import Handoff, HandoffKind, HandoffState, Person, Severity
from handoff.oof import OofKind

from harness import records
from harness.ids import DEFAULT_CHANNEL_ID, DEFAULT_TEAM_ID
from harness.scenario import (
    ANA,
    BO,
    LEAD,
    STRANGER,
    Queued,
    Scenario,
    card_words,
    cards,
    open_scenario,
    process_with,
    texts,
)

CRITICAL = "2311230040001111"
ORDINARY = "2311230040002222"
TEAMMATE = "cy@example.com"
# The scenario's clock stands on Monday 2026-11-23.
AWAY = {"first_day": "2026-11-24", "back_on": "2026-11-30"}


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    process = process_with(
        tmp_path,
        leads=[{"name": LEAD.name, "teams_id": LEAD.id}],
        case_transfer={
            "team_id": DEFAULT_TEAM_ID,
            "channel_id": DEFAULT_CHANNEL_ID,
            "allowed_teams": [],
            "allowed_groups": [],
        },
    )
    async for opened in open_scenario(tmp_path, process):
        opened.join(BO)
        yield opened


@pytest.fixture
async def leaderless(tmp_path: Path) -> AsyncIterator[Scenario]:
    async for opened in open_scenario(tmp_path):
        opened.join(BO)
        yield opened


async def owned_by_bo(scenario: Scenario, number: str, severity: Severity) -> Handoff:
    """ANA hands the case to US and BO takes it: BO owns it now."""
    handoff = await scenario.use_cases.service.request(
        records.answers(number, "EMEA", "US", severity=severity),
        records.PLACEHOLDER_OUTPUTS,
        ANA,
    )
    result = await scenario.use_cases.card_actions.run(
        CardAction("accept", handoff.id, handoff.version, {}), scenario.request(BO)
    )
    assert result.done
    return await scenario.store.get(handoff.id)


async def bo_owns_two(scenario: Scenario) -> None:
    await owned_by_bo(scenario, CRITICAL, Severity.A)
    await owned_by_bo(scenario, ORDINARY, Severity.B)


async def send(
    scenario: Scenario, actor: Person, value: dict[str, Any], zone: str | None = None
) -> list[Any]:
    request = scenario.request(actor, client_zone=zone)
    return list(await scenario.form(OOF_FORM, request, {"command": OOF_FORM, **value}))


async def problems_of(scenario: Scenario, actor: Person, value: dict[str, Any]) -> str:
    """The form shown again, in words; nothing must have been queued or handed off."""
    before = await scenario.queued()
    reply = await send(scenario, actor, value)
    [card] = cards(reply)
    assert texts(reply) == []
    assert await scenario.queued() == before
    return card_words(card)


async def test_oof_shows_the_form(scenario: Scenario) -> None:
    [card] = cards(await scenario.command("oof", scenario.request(BO)))
    words = card_words(card)
    for label in ("Out of office", "What kind of absence?", "First day away", "Back on"):
        assert label in words
    assert OofKind.PLANNED_LONG.label in words


async def test_the_form_asks_for_the_kind_and_both_dates(scenario: Scenario) -> None:
    words = await problems_of(scenario, BO, {"kind": "holiday"})
    assert "What kind of absence?: choose one." in words
    assert "First day away and Back on: pick both dates." in words


@pytest.mark.parametrize(
    ("first_day", "back_on", "problem"),
    [
        ("2026-11-24", "2026-11-24", "the day you are back comes after the first day away"),
        ("2026-11-20", "2026-11-23", "Back on: pick a day still to come."),
    ],
)
async def test_the_form_checks_the_dates(
    scenario: Scenario, first_day: str, back_on: str, problem: str
) -> None:
    value = {"kind": OofKind.PLANNED_SHORT.value, "first_day": first_day, "back_on": back_on}
    words = await problems_of(scenario, BO, value)
    assert problem in words
    # What was typed is kept.
    assert first_day in words


async def test_critical_cases_need_a_teammates_e_mail(scenario: Scenario) -> None:
    await bo_owns_two(scenario)
    for teammate in ("", "Cy", "cy at example"):
        value = {"kind": OofKind.PLANNED_LONG.value, **AWAY, "teammate": teammate}
        words = await problems_of(scenario, BO, value)
        assert "Teammate: your critical cases need a warm handoff" in words
    latest = await scenario.store.latest_for_case(CRITICAL)
    assert latest is not None and latest.state is HandoffState.ACCEPTED


async def test_critical_cases_go_warm_to_the_teammate_and_the_rest_to_the_lead(
    scenario: Scenario,
) -> None:
    await bo_owns_two(scenario)
    value = {"kind": OofKind.PLANNED_LONG.value, **AWAY, "teammate": TEAMMATE}
    [summary] = await send(scenario, BO, value)
    assert isinstance(summary, str)
    assert summary.startswith("**Out of office — planned, longer than a week**")
    assert f"Warm handoff to {TEAMMATE} requested for your critical cases: {CRITICAL}." in summary
    assert "List of 1 other case sent to your Team Leader." in summary
    assert "I am out of the office from Tue, Nov 24 and back on Mon, Nov 30, 2026." in summary

    warm = await scenario.store.latest_for_case(CRITICAL)
    assert warm is not None and warm.state is HandoffState.REQUESTED
    assert warm.kind is HandoffKind.WITHIN_REGION
    assert warm.requester.id == BO.id
    assert warm.target_engineer is not None and warm.target_engineer.id == TEAMMATE
    # The other case stays with BO.
    kept = await scenario.store.latest_for_case(ORDINARY)
    assert kept is not None and kept.state is HandoffState.ACCEPTED

    [to_lead] = [i for i in await scenario.queued(effects.OutboxKind.NOTIFY) if lead_gets(i)]
    assert to_lead.payload["text"] == messages.oof_ta_intro("Bo Receiver")
    listed = card_words(to_lead.payload["card"])
    assert ORDINARY in listed and CRITICAL not in listed


def lead_gets(item: Queued) -> bool:
    return bool(item.payload["person"]["id"] == LEAD.id)


async def take_back(scenario: Scenario) -> list[Queued]:
    return [
        i
        for i in await scenario.queued(effects.OutboxKind.NOTIFY)
        if "Welcome back" in i.payload["text"]
    ]


async def test_the_take_back_reminder_waits_for_nine_in_the_persons_zone(
    scenario: Scenario,
) -> None:
    await bo_owns_two(scenario)
    await scenario.command("settings", scenario.request(BO, "zone", "America/Los_Angeles"))
    value = {"kind": OofKind.PLANNED_SHORT.value, **AWAY, "teammate": TEAMMATE}
    await send(scenario, BO, value, zone="Europe/Berlin")  # the saved zone wins
    [reminder] = await take_back(scenario)
    # 09:00 in Los Angeles on Monday 30 November (PST, UTC-8).
    assert reminder.not_before == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert reminder.payload["person"]["id"] == BO.id
    assert reminder.payload["text"] in (
        messages.take_back(f"{CRITICAL}, {ORDINARY}"),
        messages.take_back(f"{ORDINARY}, {CRITICAL}"),
    )
    assert reminder.state == "pending"


async def test_the_take_back_reminder_follows_the_teams_client_zone(scenario: Scenario) -> None:
    await owned_by_bo(scenario, ORDINARY, Severity.B)
    value = {"kind": OofKind.PLANNED_SHORT.value, **AWAY}
    await send(scenario, BO, value, zone="Asia/Kolkata")
    [reminder] = await take_back(scenario)
    assert reminder.not_before == datetime(2026, 11, 30, 3, 30, tzinfo=UTC)


async def test_a_short_planned_absence_lists_nothing_for_the_lead(scenario: Scenario) -> None:
    await owned_by_bo(scenario, ORDINARY, Severity.B)
    value = {"kind": OofKind.PLANNED_SHORT.value, **AWAY}
    [summary] = await send(scenario, BO, value)
    assert "List of" not in summary and "Warm handoff" not in summary
    assert [i for i in await scenario.queued(effects.OutboxKind.NOTIFY) if lead_gets(i)] == []


async def test_without_leads_the_list_is_said_to_have_no_reader(leaderless: Scenario) -> None:
    await owned_by_bo(leaderless, ORDINARY, Severity.B)
    value = {"kind": OofKind.UNEXPECTED_LONG.value, **AWAY}
    [summary] = await send(leaderless, BO, value)
    assert "List of 1 other case ready, but no Team Leader is configured." in summary


async def test_a_stranger_hands_off_nothing(scenario: Scenario) -> None:
    await bo_owns_two(scenario)
    before = await scenario.queued()
    value = {"kind": OofKind.UNEXPECTED_LONG.value, **AWAY, "teammate": TEAMMATE}
    [summary] = await send(scenario, STRANGER, value)
    assert "Warm handoff" not in summary and "List of" not in summary
    assert CRITICAL not in summary and ORDINARY not in summary
    assert await scenario.queued() == before
    latest = await scenario.store.latest_for_case(CRITICAL)
    assert latest is not None and latest.owner is not None and latest.owner.id == BO.id


async def test_someone_with_no_case_is_not_promised_a_reminder(scenario: Scenario) -> None:
    value = {"kind": OofKind.PLANNED_SHORT.value, **AWAY}
    [summary] = await send(scenario, BO, value)
    assert await take_back(scenario) == []
    assert "I will remind you to take your cases back" not in summary
