"""The handoff conversation over real HTTP, across a restart of the bot."""

from __future__ import annotations

from typing import Any

from conftest import StartBot
from harness import activities
from harness.card_schema import assert_valid_card
from harness.fake_connector import FakeConnector
from harness.handoff_flow import CASE, CASE_FORM, TRANSFER_FORM

CASE_ANSWERS = {"form": "case", "action": "next", **CASE_FORM}


def last_form(connector: FakeConnector) -> str:
    card = connector.adaptive_cards()[-1]
    assert_valid_card(card)
    forms = {str(a["data"]["form"]) for a in card["actions"] if "form" in a.get("data", {})}
    [form] = forms
    return form


async def answer(bot: Any, connector: FakeConnector, value: dict[str, Any]) -> None:
    before = len(connector.activities())
    await bot.post_activity(activities.submit_message(value, connector.url))
    await connector.wait_for_activities(before + 1)


async def test_a_restart_mid_dialog_continues_where_it_stopped(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str
) -> None:
    first = await start_bot(DATABASE_URL=database_url)
    await first.post_activity(activities.personal_message(f"handoff {CASE}", fake_connector.url))
    await fake_connector.wait_for_activities(1)
    assert last_form(fake_connector) == "case"
    await answer(first, fake_connector, CASE_ANSWERS)
    assert last_form(fake_connector) == "transfer"
    await first.stop()

    second = await start_bot(DATABASE_URL=database_url)
    transfer = {"form": "transfer", "action": "next", **TRANSFER_FORM}
    await answer(second, fake_connector, transfer)
    assert last_form(fake_connector) == "notes"
    await second.post_activity(activities.personal_message("back", fake_connector.url))
    await fake_connector.wait_for_activities(4)
    [*_, transfer_card] = fake_connector.adaptive_cards()
    values = {e["id"]: e.get("value") for e in transfer_card["body"] if "id" in e}
    assert values["kind"] == "between", "answers given before the restart are still there"
    assert values["reason"] == "customer-time-zone"
