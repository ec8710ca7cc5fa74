"""A case's journey over real HTTP: requested and accepted twice through the dialog and the
Case Transfer channel's cards, `status <case>` shows both hops with the time spent in each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from conftest import FakeClock, StartBot
from harness.card_schema import assert_valid_card
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE,
    CASE_FORM,
    NOTES_FORM,
    RECEIVER,
    TRANSFER_FORM,
    TUESDAY,
    accept_invoke,
    post,
    posted_card,
    request_handoff,
    set_up_channel,
    status_card,
)
from harness.ids import DEFAULT_CHANNEL_ID, DEFAULT_USER, fake_user

APAC_ENGINEER = fake_user("Chen Apac")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


async def latest_card(connector: FakeConnector, count: int) -> tuple[dict[str, Any], str]:
    """The `count`th card of CASE posted in the Case Transfer channel and its message id."""
    records = await connector.wait_for(
        lambda r: (
            r.method == "POST"
            and 200 <= r.status < 300
            and str(r.conversation_id or "").startswith(DEFAULT_CHANNEL_ID)
            and CASE in str((r.body if isinstance(r.body, dict) else {}).get("attachments"))
        ),
        15,
        count=count,
        description=f"card {count} of case {CASE}",
    )
    record = records[count - 1]
    return record.body["attachments"][0]["content"], str(record.response["id"])


async def test_status_after_two_accepts_shows_both_hops(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock)
    await set_up_channel(bot, fake_connector)
    await request_handoff(bot, fake_connector, notes=NOTES_FORM)  # EMEA → US, at 10:00
    card, message_id = await posted_card(fake_connector)
    clock.advance(timedelta(hours=2, minutes=20))
    status, _ = await post(bot, accept_invoke(fake_connector, card, message_id, RECEIVER))
    assert status == 200

    clock.advance(timedelta(minutes=40))
    await request_handoff(
        bot,
        fake_connector,
        user=RECEIVER,
        case_form={**CASE_FORM, "owner_region": "US"},
        transfer={**TRANSFER_FORM, "target_region": "APAC"},
        notes=NOTES_FORM,
    )
    card, message_id = await latest_card(fake_connector, 2)
    clock.advance(timedelta(hours=1, minutes=5))
    status, _ = await post(bot, accept_invoke(fake_connector, card, message_id, APAC_ENGINEER))
    assert status == 200

    clock.advance(timedelta(hours=3, minutes=30))
    shown, _ = await status_card(bot, fake_connector, APAC_ENGINEER)
    assert_valid_card(shown)
    text = all_text(shown)
    # EMEA from the request at 10:00 to the accept at 12:20; US until the second accept at
    # 14:05; APAC since then, 3 hours 30 minutes by the clock of the status.
    assert (
        f"**EMEA** ({DEFAULT_USER.name}) 2 hours 20 minutes → "
        f"**US** ({RECEIVER.name}) 1 hour 45 minutes → "
        f"**APAC** ({APAC_ENGINEER.name}) 3 hours 30 minutes so far"
    ) in text
    assert text.index("Journey") < text.index("History")
