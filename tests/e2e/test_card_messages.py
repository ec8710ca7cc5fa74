"""Every message that carries a card, in a whole handoff over real HTTP, says what it is in a line
(Teams shows the activity's summary in notifications, the activity feed and the chat list, where
a card alone shows "Card") and stays within Teams' message limit."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import FakeClock, StartBot
from harness import activities
from harness.chat import all_text
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE,
    RECEIVER,
    TUESDAY,
    accept_invoke,
    handoff_card,
    invoke_for,
    post,
)

CARD = "application/vnd.microsoft.card.adaptive"
# Teams refuses a bot message much above this, counting its JSON in UTF-16.
MESSAGE_LIMIT_BYTES = 28 * 1024


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


def card_messages(connector: FakeConnector) -> list[dict[str, Any]]:
    """Every message the bot posted or updated that carries a card, in order."""
    return [
        activity
        for activity in connector.activities()
        if any(a.get("contentType") == CARD for a in activity.get("attachments") or [])
    ]


def utf16_bytes(activity: dict[str, Any]) -> int:
    serialised = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
    return len(serialised.encode("utf-16-le"))


async def test_every_card_message_of_a_handoff_has_a_summary_and_fits(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock)
    # The dialog's forms, then the card in the Case Transfer channel.
    card, message_id = await handoff_card(bot, fake_connector)
    # A question from the receiving side: the requester gets the answer card, and answers.
    question = "Which cluster region is affected?"
    await post(
        bot, invoke_for(fake_connector, card, message_id, "more_info", RECEIVER, question=question)
    )
    [ask] = await fake_connector.wait_for_activities(
        predicate=lambda a: "a question before it is taken" in json.dumps(a)
    )
    [send] = ask["attachments"][0]["content"]["actions"]
    answer = {**send["data"], "answer": "West Europe, cluster prod-7"}
    await post(bot, activities.submit_message(answer, fake_connector.url))
    await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("text") == f"Done: case {CASE} is requested now."
    )
    # The channel card as it is once updated in place with the answer (version 3).
    [updated] = await fake_connector.wait_for_activities(
        predicate=lambda a: a.get("id") == message_id and '"version": 3' in json.dumps(a)
    )
    current_card = updated["attachments"][0]["content"]
    await post(bot, accept_invoke(fake_connector, current_card, message_id, RECEIVER))
    await fake_connector.wait_for_activities(
        predicate=lambda a: "accepted your handoff" in (a.get("text") or "")
    )
    # Asked for in the channel and in a personal chat: status and list.
    for said in (
        activities.channel_message(f"status {CASE}", fake_connector.url),
        activities.personal_message(f"status {CASE}", fake_connector.url),
        activities.personal_message("list", fake_connector.url),
        activities.personal_message("mine", fake_connector.url),
    ):
        await post(bot, said)
        asked = str(said["id"])
        [reply] = await fake_connector.wait_for_activities(
            predicate=lambda a: a.get("replyToId") == asked  # noqa: B023 -- awaited right here
        )
        assert reply.get("attachments"), f"{said['text']!r} is answered with a card"

    sent = card_messages(fake_connector)
    summaries = [str(message.get("summary") or "") for message in sent]
    assert len(sent) >= 10, summaries
    for message, summary in zip(sent, summaries, strict=True):
        shown = all_text(message["attachments"][0]["content"])
        assert summary and summary != "Card", f"no summary for: {shown[:80]!r}"
        assert utf16_bytes(message) < MESSAGE_LIMIT_BYTES
    assert f"Case {CASE} · Sev B · EMEA → US: requested" in summaries, "the channel card"
    assert f"Case {CASE} · Sev B · EMEA → US: accepted by Bo Receiver" in summaries
    assert f"Handoff of case {CASE}: the notes" in summaries, "a form of the dialog"
    assert f"Case {CASE}: a question before it is taken" in summaries
    assert "Open handoffs: none" in summaries, "the list (the handoff has its owner)"
    assert "Handoffs you requested or took: 1 handoff" in summaries
