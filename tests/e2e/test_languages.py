"""The bot in each language it speaks, end to end over real HTTP: `help`, a whole handoff in
the requester's language (their Teams locale), the Case Transfer card in the team's language
(`case_transfer.language`), and the customer's message in the customer's language whatever
the engineer's. "In language X" means: the texts the catalog translates show translated, and
none of them shows in English."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from babel.messages.pofile import read_po

from application.router import help_text, own_words
from config.settings import DEFAULT_CONFIG_PATH
from i18n import _, speaking, translations
from i18n.catalogs import po_path
from i18n.languages import LANGUAGES

from conftest import FakeClock, StartBot
from harness import activities
from harness.fake_connector import FakeConnector
from harness.handoff_flow import CASE, CASE_FORM, request_handoff
from harness.ids import DEFAULT_BOT_ID, DEFAULT_CHANNEL_ID, DEFAULT_USER, personal_conversation_id
from harness.plain_words import activity_strings

pytestmark = pytest.mark.real_catalogs

TAGS = {"en": "en-US", "de": "de-DE", "fr": "fr-FR", "es": "es-ES", "ja": "ja-JP"} | {
    "zh_Hans": "zh-CN",
    "pt_BR": "pt-BR",
}
CHAT = personal_conversation_id(DEFAULT_USER.id, DEFAULT_BOT_ID)
_FIELD = re.compile(r"\{[^{}]*\}")


def english_phrases(code: str) -> dict[str, str]:
    """English phrases of the catalog (three words or more, between placeholders) whose
    translation into ``code`` differs: {English phrase: the text it is part of}."""
    with po_path(code).open("rb") as source:
        catalog = read_po(source)
    phrases = {}
    for message in catalog:
        if not message.id or message.context or not isinstance(message.id, str):
            continue
        if message.string == message.id:
            continue
        for piece in _FIELD.split(message.id.replace("**", "")):
            for line in piece.splitlines():
                phrase = line.strip(" .,:;—-()")
                if len(phrase.split()) >= 3:
                    phrases[phrase] = message.id
    return phrases


def shown(connector: FakeConnector, conversation_id: str) -> list[str]:
    return [
        text.replace("**", "")
        for activity in connector.activities(conversation_id)
        for text in activity_strings(activity)
    ]


def assert_in_language(code: str, strings: list[str], where: str) -> None:
    if code == "en":
        return
    english = english_phrases(code)
    found = {
        phrase: source for text in strings for phrase, source in english.items() if phrase in text
    }
    assert not found, f"{where} in {code} still shows English: {list(found.items())[:3]}"


def config(tmp_path: Path, team_language: str) -> str:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["case_transfer"]["language"] = team_language
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


async def posted(bot: Any, connector: FakeConnector, activity: dict[str, Any]) -> None:
    before = len(connector.activities())
    await bot.post_activity(activity)
    await connector.wait_for_activities(before + 1, timeout=15)


@pytest.mark.parametrize("code", list(LANGUAGES))
async def test_help_a_whole_handoff_and_the_channel_card_in_each_language(
    code: str,
    start_bot: StartBot,
    fake_connector: FakeConnector,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    # A fixed hour: at some hours a meeting's agenda is posted to the channel meanwhile.
    bot = await start_bot(clock=clock, HANDOFF_CONFIG=config(tmp_path, code))
    tag = TAGS[code]
    await posted(bot, fake_connector, activities.bot_added_to_team(fake_connector.url))
    setup = activities.channel_message("setup", fake_connector.url, locale=tag)
    await posted(bot, fake_connector, setup)

    await posted(
        bot, fake_connector, activities.personal_message("help", fake_connector.url, locale=tag)
    )
    with speaking(code):
        expected_help = help_text()
        words = own_words(code)
    assert fake_connector.activities(CHAT)[-1]["text"] == expected_help
    # Each language's own command words work as the English ones do, and help lists them.
    for word in [word for word, name in words.items() if name in ("help", "list")]:
        assert f"**{word}**" in expected_help
        message = activities.personal_message(word, fake_connector.url, locale=tag)
        await posted(bot, fake_connector, message)
        assert "unknown" not in str(fake_connector.activities(CHAT)[-1]).casefold()

    # The customer speaks the language too: the whole handoff, the draft included, is in it.
    case_form = {**CASE_FORM, "customer_language": code}
    await request_handoff(bot, fake_connector, case_form=case_form, locale=tag)
    await fake_connector.wait_for_activities(
        predicate=lambda a: (
            a.get("conversation", {}).get("id", "").startswith(DEFAULT_CHANNEL_ID)
            and bool(a.get("attachments"))
        ),
        timeout=15,
    )
    chat, channel = shown(fake_connector, CHAT), shown(fake_connector, DEFAULT_CHANNEL_ID)
    assert_in_language(code, chat, "the requester's chat")
    assert_in_language(code, channel, "the Case Transfer channel")
    with speaking(code):
        accept = _("Accept")
        title = translations(code).pgettext("button", "Accept")
    card_text = " ".join(channel)
    assert accept in card_text or title in card_text, "the card's Accept button is in the language"


async def test_the_customers_message_is_in_the_customers_language_not_the_engineers(
    start_bot: StartBot, fake_connector: FakeConnector, tmp_path: Path
) -> None:
    bot = await start_bot(HANDOFF_CONFIG=config(tmp_path, "en"))
    german_customer = {**CASE_FORM, "customer_language": "de"}
    await request_handoff(bot, fake_connector, case_form=german_customer, locale="en-US")
    chat = " ".join(shown(fake_connector, CHAT))
    with speaking("de"):
        hello, regards = _("Hello,"), _("Best regards")
        continues = _("{who} will continue working on your case {number}.")
    assert hello != "Hello," and regards != "Best regards", "the German catalog translates them"
    assert hello in chat and regards in chat
    assert continues.split("{")[0].strip() in chat or continues.split("}")[-1].strip(". ") in chat
    assert "will continue working on your case" not in chat
    # The notes record the customer's language.
    notes = json.dumps(fake_connector.activities(CHAT), ensure_ascii=False)
    assert "Customer language: German" in notes
    assert CASE in chat
