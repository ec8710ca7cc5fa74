"""R-OOF over real HTTP: each kind of absence, what happens to the cases."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import DEFAULT_CONFIG_PATH
from handoff.models import Case, HandoffNotes, Person, Severity, SupportPlan
from handoff.request import HandoffAnswers
from handoff.service import HandoffService
from handoff.state_machine import Accept
from storage.sql_store import open_store

from conftest import FakeClock, StartBot
from harness import activities
from harness.card_schema import assert_valid_card
from harness.chat import all_text, teams_values
from harness.fake_connector import FakeConnector
from harness.ids import DEFAULT_USER, fake_user
from harness.records import PLACEHOLDER_OUTPUTS

CRITICAL, SLOW = "2311230040001234", "2311230040005678"
LEAD = fake_user("Tara Lead")
ME = Person(id=DEFAULT_USER.id, name=DEFAULT_USER.name, aad_object_id=DEFAULT_USER.aad_object_id)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))


@pytest.fixture
def config_with_lead(tmp_path: Path) -> str:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["leads"] = [{"name": LEAD.name, "teams_id": LEAD.aad_object_id}]
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


MINE = ((CRITICAL, Severity.A, True), (SLOW, Severity.C, False))


async def cases_i_own(
    url: str, clock: FakeClock, cases: tuple[tuple[str, Severity, bool], ...] = MINE
) -> None:
    store = await open_store(url, clock)
    service = HandoffService(store, clock)
    outputs = PLACEHOLDER_OUTPUTS
    try:
        for number, severity, is_24x7 in cases:
            answers = HandoffAnswers(
                case=Case(
                    number=number,
                    severity=severity,
                    is_24x7=is_24x7,
                    plan=SupportPlan.PREMIER,
                    product_skill="HDInsight",
                    customer_region="EMEA",
                    customer_timezone="Europe/London",
                ),
                owner_region="US",
                target_region="EMEA",
                kind_choice="between",
                reason="continual support",
                notes=HandoffNotes(summary=f"Case {number}: jobs stall after the upgrade."),
            )
            other = Person(id="29:us-owner", name="Us Owner")
            handoff = await service.request(answers, outputs, other)
            await service.act(handoff.id, Accept(actor=ME), handoff.version)
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("kind", "listed"),
    [
        ("planned-short", []),
        ("planned-long", [SLOW]),
        ("unexpected-short", [SLOW]),
        ("unexpected-long", [CRITICAL, SLOW]),
    ],
)
async def test_each_kind_of_absence(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    config_with_lead: str,
    sqlite_url: str,
    kind: str,
    listed: list[str],
) -> None:
    await cases_i_own(sqlite_url, clock)
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config_with_lead)
    await bot.client.post(
        activities.bot_added_personal(
            fake_connector.url, user_id=LEAD.id, aad_object_id=LEAD.aad_object_id
        ),
    )
    await bot.client.post(activities.personal_message("oof", fake_connector.url))
    await fake_connector.wait_for_activities(
        predicate=lambda a: (
            bool(a.get("attachments"))
            and all_text(a["attachments"][0]["content"]).startswith("Out of office")
        )
    )
    form = fake_connector.adaptive_cards()[-1]
    assert_valid_card(form)
    [button] = form["actions"]
    values = teams_values(form, kind=kind, first_day="2026-11-25", back_on="2026-11-30")
    await bot.client.post(
        activities.submit_message({**button["data"], **values}, fake_connector.url)
    )
    [again] = [
        c
        for c in await _cards_after(fake_connector)
        if "Teammate: your critical cases need a warm handoff" in all_text(c)
    ]
    assert again
    values["teammate"] = "kim@example.invalid"
    await bot.client.post(
        activities.submit_message({**button["data"], **values}, fake_connector.url)
    )
    [summary] = await fake_connector.wait_for_activities(
        predicate=lambda a: (a.get("text") or "").startswith("**Out of office")
    )
    assert (
        f"Warm handoff to kim@example.invalid requested for your critical cases: {CRITICAL}."
        in summary["text"]
    )
    assert "Not handed off" not in summary["text"]
    assert "Your automatic reply:" in summary["text"] and "+00" in summary["text"]

    store = await open_store(sqlite_url, clock)
    try:
        handoff = await store.open_for_case(CRITICAL)
        assert handoff is not None and handoff.target_engineer is not None
        assert handoff.target_engineer.id == "kim@example.invalid"
        assert handoff.kind.value == "within-region"
        assert await store.open_for_case(SLOW) is None, "never pushed back to the queue"
    finally:
        await store.close()

    if listed:
        [ta] = await fake_connector.wait_for_activities(
            predicate=lambda a: (
                bool(a.get("attachments"))
                and "is out of office" in all_text(a["attachments"][0]["content"])
            )
        )
        shown = all_text(ta["attachments"][0]["content"])
        assert [n for n in (CRITICAL, SLOW) if n in shown] == listed
    clock._now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 09:00 on the 30th, any US zone
    [back] = await fake_connector.wait_for_activities(
        predicate=lambda a: (a.get("text") or "").startswith("Welcome back"), timeout=10
    )
    assert CRITICAL in back["text"] and SLOW in back["text"]


async def _cards_after(connector: FakeConnector) -> list[dict[str, Any]]:
    await connector.wait_for_activities(
        predicate=lambda a: (
            bool(a.get("attachments")) and "Teammate:" in all_text(a["attachments"][0]["content"])
        )
    )
    return connector.adaptive_cards()


HELD = "2311230040009999"


def _hold(sqlite_url: str, held: bool) -> None:
    """The database refuses any new handoff of case HELD while the trigger is there."""
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=10) as db:
        if held:
            db.execute(
                "CREATE TRIGGER hold BEFORE INSERT ON handoffs "
                f"WHEN NEW.case_number = '{HELD}' BEGIN SELECT RAISE(ABORT, 'on hold'); END"
            )
        else:
            db.execute("DROP TRIGGER hold")


async def test_an_oof_that_fails_for_one_case_reports_each_case_and_loses_nothing(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    config_with_lead: str,
    sqlite_url: str,
) -> None:
    await cases_i_own(sqlite_url, clock, (*MINE, (HELD, Severity.A, True)))
    await asyncio.to_thread(_hold, sqlite_url, True)
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config_with_lead)

    async def away() -> str:
        await bot.client.post(activities.personal_message("oof", fake_connector.url))
        form = (
            await fake_connector.wait_for_activities(
                predicate=lambda a: (
                    bool(a.get("attachments"))
                    and all_text(a["attachments"][0]["content"]).startswith("Out of office")
                )
            )
        )[0]["attachments"][0]["content"]
        [button] = form["actions"]
        values = teams_values(
            form,
            kind="planned-long",
            first_day="2026-11-25",
            back_on="2026-11-30",
            teammate="kim@example.invalid",
        )
        fake_connector.clear()
        await bot.client.post(
            activities.submit_message({**button["data"], **values}, fake_connector.url)
        )
        [summary] = await fake_connector.wait_for_activities(
            predicate=lambda a: (a.get("text") or "").startswith("**Out of office")
        )
        return str(summary["text"])

    first = await away()
    assert f"requested for your critical cases: {CRITICAL}." in first
    assert f"**Not handed off** — these critical cases are still yours:\n- {HELD}: " in first
    assert "type **oof** again" in first and "Your automatic reply:" in first

    await asyncio.to_thread(_hold, sqlite_url, False)
    second = await away()
    assert f"requested for your critical cases: {HELD}." in second, "only what is left"
    assert "Not handed off" not in second

    store = await open_store(sqlite_url, clock)
    try:
        for number in (CRITICAL, HELD):
            handoffs = await store.for_case(number)
            oof = [h for h in handoffs if h.reason.startswith("Out of office")]
            assert len(oof) == 1, f"{number} handed off exactly once"
    finally:
        await store.close()
