"""What an Accept costs the database: the handoff read once, the click's key written once with
the change (no look-up before), the card built once. Counted with SQLite's own trace of the
statements the bot's connection runs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from application.transfers import CardAction
from cards import transfer_card
from handoff.ports import CardRef
from handoff.state_machine import Verb

from harness import records
from harness.scenario import ANA, BO, Scenario, open_scenario

CASE = "2311230040001234"
CARD_MESSAGE = "1700000000001"


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    async for opened in open_scenario(tmp_path):
        yield opened


async def test_an_accept_reads_its_handoff_once_and_keys_the_click_once(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    handoff = await scenario.use_cases.service.request(
        records.answers(CASE, "EMEA", "US"), records.PLACEHOLDER_OUTPUTS, ANA
    )
    await scenario.store.set_card(
        handoff.id, CardRef(conversation_id="19:c", activity_id=CARD_MESSAGE)
    )
    scenario.join(BO)
    statements: list[str] = []
    connection = scenario.store.database._conn  # type: ignore[attr-defined]
    await connection.set_trace_callback(statements.append)
    built: list[str] = []
    real_card = transfer_card.handoff_card

    def counted_card(*args: object, **kwargs: object) -> dict[str, object]:
        built.append("card")
        return real_card(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("application.transfers.handoff_card", counted_card)
    click = CardAction(verb=Verb.ACCEPT, handoff_id=handoff.id, version=1, inputs={})
    result = await scenario.use_cases.card_actions.run(
        click, scenario.request(BO, message_id=CARD_MESSAGE)
    )
    await connection.set_trace_callback(None)

    assert result.done and "accepted" in result.message
    reads = [s for s in statements if re.match(r"\s*SELECT .* FROM handoffs WHERE id", s, re.S)]
    keys_read = [s for s in statements if re.match(r"\s*SELECT .* FROM handled_keys", s, re.S)]
    keys_written = [s for s in statements if re.match(r"\s*INSERT INTO handled_keys", s, re.S)]
    assert (len(reads), len(keys_read), len(keys_written), len(built)) == (1, 0, 1, 1), statements
