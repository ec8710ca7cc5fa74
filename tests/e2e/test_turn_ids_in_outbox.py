"""An operator follows one click from its request to the card it posts later: the outbox
items a turn enqueues keep the turn's id, and every line the outbox writes while working on
them (a retry after the Bot Connector's 503 here) carries it too."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime

import pytest

from handoff.turn_ids import TurnIdFilter

from conftest import FakeClock, StartBot
from harness.fake_connector import FakeConnector
from harness.handoff_flow import posted_card, request_handoff, set_up_channel
from harness.ids import DEFAULT_CHANNEL_ID
from harness.team import settled


async def test_the_card_a_turn_posts_is_logged_under_that_turns_id(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    sqlite_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.handler.addFilter(TurnIdFilter())
    caplog.set_level(logging.DEBUG)
    bot = await start_bot(OUTBOX_BACKOFF_SECONDS="0.05")
    await set_up_channel(bot, fake_connector)
    # Near a handoff meeting its agenda goes to the channel too: posted before the fault is set.
    await settled(sqlite_url, FakeClock(datetime.now(UTC)))
    fake_connector.fail_next(503, method="POST", path_contains=DEFAULT_CHANNEL_ID)
    await request_handoff(bot, fake_connector)
    await posted_card(fake_connector)

    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
        [(turn_id,)] = db.execute("SELECT turn_id FROM outbox WHERE kind = 'post_card'")
        planned = {
            row[0]
            for row in db.execute("SELECT turn_id FROM outbox WHERE kind = ?", ("plan_reminders",))
        }
    assert isinstance(turn_id, str) and len(turn_id) == 16
    assert planned == {None}, "items no turn enqueued carry no turn's id"

    lines = [r for r in caplog.records if getattr(r, "turn_id", None) == turn_id]
    requested = [r for r in lines if r.getMessage() == "handoff requested"]
    retried = [r for r in lines if r.getMessage() == "outbox item will be retried"]
    assert requested, "the request's own line carries the id"
    assert retried and retried[0].__dict__["kind"] == "post_card", "so does the outbox's retry"
