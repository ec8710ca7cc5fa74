"""The internal title (R-TITLE) is the thing an engineer copies into the case tool: its
`<Need US SE>` prefix must survive every Teams client. Markdown renderers read `<Need US SE>`
as an HTML tag and drop it (the README's review screenshot showed "Cluster fails to scale out"
alone), so the title is shown as the value of a text box, which no client renders as markup,
on the review card, the Case Transfer card and `status`."""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import FakeClock, StartBot
from harness import activities
from harness.card_schema import assert_valid_card
from harness.fake_connector import FakeConnector
from harness.handoff_flow import (
    CASE,
    TUESDAY,
    post,
    posted_card,
    request_handoff,
    set_up_channel,
)
from harness.ids import DEFAULT_BOT_ID, DEFAULT_USER, personal_conversation_id

TITLE = "<Need US SE> Cluster fails to scale out"
# Text a markdown renderer takes for an HTML tag, and so hides: "<" then a letter, "/" or
# "!". Mentions (<at>…</at>) are the one tag Teams means to render.
TAG = re.compile(r"<(?!/?at>)[A-Za-z/!]")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


def rendered_as_markdown(card: Any) -> list[str]:
    """The strings of a card that Teams renders as markdown: TextBlocks and facts."""
    found: list[str] = []
    if isinstance(card, dict):
        if card.get("type") == "TextBlock":
            found.append(str(card.get("text", "")))
        if card.get("type") == "FactSet":
            found += [f"{f['title']} {f['value']}" for f in card.get("facts", [])]
        for value in card.values():
            found += rendered_as_markdown(value)
    elif isinstance(card, list):
        for item in card:
            found += rendered_as_markdown(item)
    return found


def title_boxes(card: Any) -> list[str]:
    """The values of the text boxes that show the title."""
    found: list[str] = []
    if isinstance(card, dict):
        if card.get("type") == "Input.Text" and "title" in str(card.get("label", "")).lower():
            found.append(str(card.get("value", "")))
        for value in card.values():
            found += title_boxes(value)
    elif isinstance(card, list):
        for item in card:
            found += title_boxes(item)
    return found


def assert_title_survives(card: dict[str, Any]) -> None:
    assert_valid_card(card)
    assert title_boxes(card) == [TITLE], "the whole title, copyable, in one box"
    hidden = [text for text in rendered_as_markdown(card) if TAG.search(text)]
    assert hidden == [], "text a renderer would take for a tag"


async def test_the_internal_title_is_shown_whole_wherever_it_is_shown(
    start_bot: StartBot, fake_connector: FakeConnector, clock: FakeClock
) -> None:
    bot = await start_bot(clock=clock)
    await set_up_channel(bot, fake_connector)
    await request_handoff(bot, fake_connector, confirm=False)
    chat = personal_conversation_id(DEFAULT_USER.id, DEFAULT_BOT_ID)
    review = fake_connector.adaptive_cards(chat)[-1]
    assert "check and confirm" in str(review)
    assert_title_survives(review)

    await post(
        bot, activities.submit_message({"form": "review", "action": "next"}, fake_connector.url)
    )
    channel_card, _ = await posted_card(fake_connector)
    assert_title_survives(channel_card)

    before = len(fake_connector.adaptive_cards(chat))
    await post(bot, activities.personal_message(f"status {CASE}", fake_connector.url))
    await fake_connector.wait_for_activities(
        conversation_id=chat,
        predicate=lambda a: len(fake_connector.adaptive_cards(chat)) > before,
    )
    assert_title_survives(fake_connector.adaptive_cards(chat)[-1])
