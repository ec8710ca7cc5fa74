"""A team the bot serves, for the tests of who may do what: a lead in the process file, the
Case Transfer channel bound by that lead in a team of chosen members, and a case requested
with its L1/L2 work in the notes (ready to escalate)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from config.settings import DEFAULT_CONFIG_PATH
from handoff.ports import Clock
from storage.sql_store import open_store

from . import activities
from .escalation_case import requested_case
from .fake_connector import FakeConnector
from .handoff_flow import CASE, RECEIVER, told, user_fields
from .ids import DEFAULT_TEAM_ID, DEFAULT_USER, TeamsUser, fake_user
from .outbox_burst import outbox_settled
from conftest import FakeClock, RunningBot, StartBot

LEAD = fake_user("Tara Lead")


def config_with_lead(tmp_path: Path, extra: Mapping[str, Any] | None = None) -> str:
    """The process file with LEAD as the lead, and `extra` sections (case_system, say)."""
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["leads"] = [{"name": LEAD.name, "teams_id": LEAD.aad_object_id}]
    data.update(extra or {})
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


async def team_bot(
    start_bot: StartBot,
    connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
    members: tuple[TeamsUser, ...] = (DEFAULT_USER, RECEIVER),
    config: Mapping[str, Any] | None = None,
) -> RunningBot:
    """The bot with a lead, its Case Transfer channel bound in a team of `members`, and CASE
    requested by DEFAULT_USER (EMEA → US) with the L1/L2 work in its notes."""
    connector.set_roster(DEFAULT_TEAM_ID, members)
    await requested_case(sqlite_url, clock, CASE)
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config_with_lead(tmp_path, config))
    for user in (LEAD, DEFAULT_USER):
        await bot.client.post(activities.bot_added_personal(connector.url, **_ids(user)))
    await bot.client.post(activities.bot_added_to_team(connector.url))
    setup = activities.channel_message("setup", connector.url, **user_fields(LEAD))
    assert "now the Case Transfer channel" in await told(bot, connector, setup)
    await settled(sqlite_url, clock)
    return bot


async def settled(url: str, clock: Clock) -> None:
    """Everything the bot meant to send by now is sent (the case's card, say)."""
    store = await open_store(url, clock)
    try:
        await outbox_settled(store, clock)
    finally:
        await store.close()


def _ids(user: TeamsUser) -> dict[str, Any]:
    return {"user_id": user.id, "aad_object_id": user.aad_object_id}
