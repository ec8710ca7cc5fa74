"""`outbox` for the bot's admins: the dead letters and trying them again, as a use case over a
real SQLite file. A dead letter is made the way the worker makes one: claimed, then given up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from application import outbox_admin
from handoff import effects

from harness.scenario import ANA, BO, Scenario, open_scenario, texts

ADMIN = ANA


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    async for opened in open_scenario(tmp_path, admin_ids=(ADMIN.id,)):
        yield opened


async def outbox(scenario: Scenario, *args: str) -> str:
    [said] = texts(await scenario.command("outbox", scenario.request(ADMIN, *args)))
    return said


async def dead_letter(scenario: Scenario, text: str, error: str) -> int:
    """A message to BO that failed for good; its outbox id."""
    now = scenario.clock.now()
    await scenario.store.enqueue_message(effects.tell(BO, text, f"t:{text}", now))
    [item] = await scenario.store.claim(now, 10, timedelta(minutes=1))
    await scenario.store.give_up(item.id, error)
    return item.id


async def test_someone_not_an_admin_sees_nothing(scenario: Scenario) -> None:
    await dead_letter(scenario, "hello", "403 Forbidden")
    reply = await scenario.command("outbox", scenario.request(BO))
    assert reply == [outbox_admin.not_allowed()]


async def test_an_empty_outbox(scenario: Scenario) -> None:
    said = await outbox(scenario)
    assert said.endswith("No dead letters.") and said.startswith("Outbox:")


async def test_the_dead_letters_say_for_whom_and_why(scenario: Scenario) -> None:
    item = await dead_letter(scenario, "hello", "403 Forbidden: the bot was removed")
    said = await outbox(scenario)
    assert "dead 1" in said
    assert (
        f"- **{item}** notify for Bo Receiver after 1 attempt: 403 Forbidden: the bot was removed"
    ) in said
    assert said.endswith(outbox_admin.usage())


async def test_retry_puts_a_dead_letter_back(scenario: Scenario) -> None:
    item = await dead_letter(scenario, "hello", "boom")
    assert await outbox(scenario, "retry", str(item)) == (
        f"Trying again: {item}. **outbox** shows how it went."
    )
    assert [q.state for q in await scenario.queued()] == ["pending"]
    assert scenario.woken == 1
    assert await outbox(scenario, "retry", str(item)) == (
        f"There is no dead letter {item}; **outbox** lists them."
    )


async def test_retry_all(scenario: Scenario) -> None:
    first = await dead_letter(scenario, "one", "boom")
    second = await dead_letter(scenario, "two", "boom")
    said = await outbox(scenario, "retry", "ALL")
    assert said.startswith("Trying again: ") and str(first) in said and str(second) in said
    assert {q.state for q in await scenario.queued()} == {"pending"}


@pytest.mark.parametrize("args", [("retry", "x1"), ("purge",), ("retry",)])
async def test_anything_else_says_how(scenario: Scenario, args: tuple[str, ...]) -> None:
    said = await outbox(scenario, *args)
    assert said.endswith(outbox_admin.usage())
    assert scenario.woken == 0
