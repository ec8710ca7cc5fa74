"""The use cases put together: every command of the table has its use case, and a table and
use cases that disagree stop the bot at start-up, saying what is missing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from application import messages
from application.request import Reply, Request
from application.router import COMMANDS, DIALOG_COMMANDS, FORMS, Router, help_text
from cards.long_running_card import CHAT_OWNERS
from cards.oof_card import OOF_FORM
from handoff.effects import OutboxKind
from handoff.models import HandoffNotes, NextContact

from harness import records
from harness.scenario import ANA, Scenario, open_scenario, process_with, texts


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    async for opened in open_scenario(tmp_path):
        yield opened


ANSWERED = [command.name for command in COMMANDS if command.name not in DIALOG_COMMANDS]


@pytest.mark.parametrize("name", ANSWERED)
async def test_every_command_of_the_table_is_answered(scenario: Scenario, name: str) -> None:
    use_case = scenario.use_cases.router.command(name)
    assert use_case is not None
    reply = await use_case(scenario.request(ANA))
    assert reply, f"{name} said nothing"


def test_the_dialogs_command_is_left_to_the_dialog() -> None:
    assert {"handoff"} == DIALOG_COMMANDS


async def test_the_dialogs_command_has_no_use_case(scenario: Scenario) -> None:
    assert scenario.use_cases.router.command("handoff") is None
    assert scenario.use_cases.router.command("frobnicate") is None


async def test_both_forms_are_answered(scenario: Scenario) -> None:
    router = scenario.use_cases.router
    oof = router.form(OOF_FORM)
    owners = router.form(CHAT_OWNERS)
    assert oof is not None and owners is not None
    assert router.form("no-such-form") is None
    # A regional owners form naming no case is stale.
    assert await owners(scenario.request(ANA), {"command": CHAT_OWNERS}) == [messages.stale_form()]


async def test_help_is_the_tables_help(scenario: Scenario) -> None:
    reply = await scenario.command("help", scenario.request(ANA))
    assert texts(reply) == [help_text()]
    for command in COMMANDS:
        if command.help:
            assert command.help in texts(reply)[0]


async def _nothing(_request: Request) -> Reply:
    return []


async def _no_form(_request: Request, _value: dict[str, Any]) -> Reply:
    return []


ALL_COMMANDS = dict.fromkeys(ANSWERED, _nothing)
ALL_FORMS = dict.fromkeys(FORMS, _no_form)


def test_a_complete_table_is_accepted() -> None:
    Router(commands=ALL_COMMANDS, forms=ALL_FORMS)


def test_a_command_without_a_use_case_stops_start_up() -> None:
    commands = {name: use for name, use in ALL_COMMANDS.items() if name != "escalate"}
    with pytest.raises(ValueError, match=re.escape("commands without a use case: {'escalate'}")):
        Router(commands=commands, forms=ALL_FORMS)


def test_a_use_case_the_table_does_not_know_stops_start_up() -> None:
    with pytest.raises(ValueError, match=re.escape("not in the table: {'frobnicate'}")):
        Router(commands={**ALL_COMMANDS, "frobnicate": _nothing}, forms=ALL_FORMS)


def test_the_dialogs_command_given_a_use_case_stops_start_up() -> None:
    with pytest.raises(ValueError, match=re.escape("not in the table: {'handoff'}")):
        Router(commands={**ALL_COMMANDS, "handoff": _nothing}, forms=ALL_FORMS)


def test_forms_that_differ_from_the_table_stop_start_up() -> None:
    with pytest.raises(ValueError, match=r"forms \['oof'\] do not match the table"):
        Router(commands=ALL_COMMANDS, forms={OOF_FORM: _no_form})
    with pytest.raises(ValueError, match="do not match the table"):
        Router(commands=ALL_COMMANDS, forms={**ALL_FORMS, "survey": _no_form})


async def test_the_service_reminds_the_customers_contact_as_early_as_the_process_file_says(
    tmp_path: Path,
) -> None:
    process = process_with(tmp_path, reminders={"commitment_notice_minutes": 90})
    async for scenario in open_scenario(tmp_path, process=process):
        contact = scenario.clock.now() + timedelta(hours=5)
        notes = HandoffNotes(
            summary="Autoscale stops at 20 nodes.",
            next_customer_contact=NextContact(at=contact, who_waits="Customer waits for us"),
        )
        await scenario.use_cases.service.request(
            records.answers("2311230040001234", "EMEA", "US", notes=notes),
            records.PLACEHOLDER_OUTPUTS,
            ANA,
        )
        [reminder] = await scenario.queued(OutboxKind.COMMITMENT_REMINDER)
        assert reminder.not_before == contact - timedelta(minutes=90)
