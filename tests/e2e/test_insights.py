"""`insights` over real HTTP on the known week of tests/harness/insights_history.py: a member
of the Case Transfer team in a personal chat (days counted in their zone, Europe/London,
across the change to summer time), a lead for one region and this week, an @mention in the
Case Transfer channel, a stranger refused like `list`, and periods that cannot be read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from handoff import access
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities
from harness.card_schema import assert_valid_card
from harness.fake_connector import FakeConnector
from harness.handoff_flow import CASE, command_by, post, told, user_fields
from harness.ids import DEFAULT_USER, TeamsUser, fake_user
from harness.insights_history import make_history
from harness.old_cases import Cases
from harness.team import LEAD, team_bot

STRANGER = fake_user("Olga Outsider")
WEEK_BY_LONDON_DAY = (
    "By day: Thu, Mar 26: 0 · Fri, Mar 27: 0 · Sat, Mar 28: 1 · Sun, Mar 29: 1 · Mon, Mar 30: 3 · "
    "Tue, Mar 31: 1 · Wed, Apr 1: 2 · Thu, Apr 2: 0"
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 20, 8, 0, tzinfo=UTC))


@pytest.fixture
async def bot(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> RunningBot:
    store = await open_store(sqlite_url, clock)
    try:
        await make_history(store, clock)
        # Their cards and reminders went out long ago.
        await Cases(store, clock).settle()
    finally:
        await store.close()
    return await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)


async def card_for(
    bot: RunningBot, connector: FakeConnector, text: str, user: TeamsUser, zone: str
) -> dict[str, Any]:
    message = activities.personal_message(text, connector.url, timezone=zone, **user_fields(user))
    await post(bot, message)
    [reply] = await connector.wait_for_activities(
        conversation_id=message["conversation"]["id"],
        predicate=lambda a: a.get("replyToId") == message["id"],
    )
    [attachment] = reply["attachments"]
    content: dict[str, Any] = attachment["content"]
    return content


def shown(card: dict[str, Any]) -> str:
    """Every text and fact of the card, as a reader sees it without charts."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                parts.append(str(node["text"]))
            if node.get("type") == "FactSet":
                parts.extend(f"{f['title']}: {f['value']}" for f in node["facts"])
            for key, value in node.items():
                if key != "fallback":
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(parts)


async def test_a_member_sees_the_week_in_their_zone(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    card = await card_for(bot, fake_connector, "insights", DEFAULT_USER, "Europe/London")
    assert_valid_card(card)
    text = shown(card)
    assert "Handoff insights to all regions" in text
    assert "Handoffs requested: 8" in text and "Accepted: 7" in text
    assert "Time to accept: median 50 minutes, 90th percentile 10 hours (7 accepted)" in text
    assert WEEK_BY_LONDON_DAY in text
    assert "By receiving region: EMEA: 3 · US: 3 · APAC: 2" in text
    assert "- US → APAC: median 1 hour 50 minutes, 90th percentile 3 hours (2 accepted)" in text
    assert (
        "Sev A (3): median 35 minutes, 90th percentile 50 minutes (2 accepted); "
        "1 of 3 within 30 minutes (33%)"
    ) in text
    assert "Sev B (4): median 1 hour 10 minutes" in text and "3 of 4 within 2 hours (75%)" in text
    assert "Back to the queue: 1 (0.12 per handoff)" in text
    assert "1.2 hops per case (7 accepted handoffs of 6 cases)" in text
    assert "Case 1000004: EMEA → US → APAC → EMEA (3 hops, long-running)" in text
    # Oldest first: the one waiting since Wednesday, then the case requested just now.
    waiting = text.index("Case 1000005 · APAC → EMEA · requested · waiting 1 day 2 hours")
    assert waiting < text.index(f"Case {CASE} · EMEA → US")
    assert "2 refusals for 1 case (all regions); of those, 1 case then went out" in text


async def test_a_lead_asks_for_one_region_this_week_and_a_member_in_the_channel(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    card = await card_for(bot, fake_connector, "insights US this week", LEAD, "UTC")
    assert_valid_card(card)
    text = shown(card)
    # Since Monday 00:00 UTC: only 1000004's first hop went to US.
    assert "Handoff insights to US" in text and "Handoffs requested: 1" in text
    assert (
        "This week: Mon Mar 30, 2026, 12:00 AM UTC to Thu Apr 2, 2026, 12:00 PM UTC (UTC)" in text
    )

    mention = activities.channel_message(
        "insights EMEA 30d", fake_connector.url, **user_fields(DEFAULT_USER)
    )
    answer = await told(bot, fake_connector, mention)
    assert "Handoff insights to EMEA" in answer
    assert "By receiving region: EMEA: 3" in answer


async def test_a_stranger_is_refused_like_list(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    for text in ("insights", "insights US 30d", "insights 999d"):
        assert await command_by(bot, fake_connector, text, STRANGER) == access.NOT_YOURS_TO_LIST


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("insights 400d", "The period must be 1 to 365 days, not 400."),
        ("insights US 7x", "I cannot read the period '7x'."),
        ("insights this month", "I cannot read the period 'this month'."),
        ("insights LATAM", "“LATAM” is not a region; use one of EMEA, US, APAC, IST."),
    ],
)
async def test_a_period_or_region_that_cannot_be_read_says_what_to_write(
    bot: RunningBot, fake_connector: FakeConnector, text: str, says: str
) -> None:
    answer = await command_by(bot, fake_connector, text, DEFAULT_USER)
    assert says in answer
    if "period" in says:
        assert "**7d**" in answer and "**insights this week**" in answer
