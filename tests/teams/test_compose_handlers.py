"""The compose box's invokes at the edge (teams/compose_handlers.py): the message an action was
chosen on read from its HTML, the answers in the shapes Teams takes, and every invoke answered
through the whole bot (built as app.py builds it, on a real SQLite file, driven by botbuilder's
TestAdapter) whatever its value holds, never a failed turn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from botbuilder.core import TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ActivityTypes

from app import TurnPipeline, build_bot
from application.compose.hand_off import HandoffDraft, finish_the_open_one_first
from application.compose.search import Found, Results
from application.request import Card
from cards.compose_cards import THUMBNAIL_CONTENT_TYPE, case_preview
from cards.elements import CARD_CONTENT_TYPE
from cards.transfer_card import handoff_card
from config.process import load_process_config
from config.settings import DEFAULT_CONFIG_PATH
from handoff.models import Person
from handoff.request import new_handoff
from handoff.service import HandoffService
from storage.sql_store import SqlStore, open_store
from teams.compose_handlers import (
    NO_CACHE,
    QUERY,
    QUERY_LINK,
    message_text,
    results_body,
    task_body,
)

from conftest import FakeClock
from harness import records
from harness.chat import template

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CASE = "2311230040001234"
TEMPLATE = "https://support.example.com/cases/{case}"


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        (
            {"body": {"contentType": "html", "content": "<p>Case 1</p><p>Summary: x &amp; y</p>"}},
            "Case 1\nSummary: x & y",
        ),
        (
            {"body": {"contentType": "html", "content": "<div>a<br>b<br/>c</div>\n<div>d</div>"}},
            "a\nb\nc\nd",
        ),
        (
            {"body": {"content": "<ul><li>one</li><li>two -&gt; done</li></ul>"}},
            "- one\n- two -> done",
        ),
        (
            {"body": {"contentType": "html", "content": '<at id="0">Bot</at>&nbsp;take 123'}},
            "Bot take 123",
        ),
        (
            {"body": {"contentType": "text", "content": "plain <b>as</b> typed\r\n\r\n\r\nend"}},
            "plain <b>as</b> typed\n\nend",
        ),
        ({"body": {"content": None}}, ""),
        ({"body": "text"}, ""),
        (None, ""),
        ([], ""),
    ],
)
def test_the_message_is_read_from_its_html_as_lines(payload: Any, text: str) -> None:
    assert message_text(payload) == text


def test_a_huge_message_is_read_only_so_far() -> None:
    content = "<p>" + "x" * 500_000 + "</p>"
    assert len(message_text({"body": {"content": content}})) <= 200_000


def test_results_are_a_list_of_cards_with_previews_or_a_message() -> None:
    card = {"type": "AdaptiveCard", "version": "1.5", "body": []}
    preview = {"title": "Case"}
    body = results_body(Results(found=(Found(CARD_CONTENT_TYPE, card, preview),)))
    [attachment] = body["composeExtension"]["attachments"]
    assert body["composeExtension"]["type"] == "result"
    assert body["composeExtension"]["attachmentLayout"] == "list"
    assert attachment["preview"] == {"contentType": THUMBNAIL_CONTENT_TYPE, "content": preview}
    assert "suggestedActions" not in body["composeExtension"]
    linked = results_body(Results(), link=True)
    assert linked["composeExtension"]["attachments"] == []
    assert linked["composeExtension"]["suggestedActions"] == NO_CACHE
    said = results_body(Results(said="Not yours"))
    assert said == {"composeExtension": {"type": "message", "text": "Not yours"}}


def test_a_result_card_too_big_for_teams_is_cut_to_fit() -> None:
    answers = records.answers(CASE, "EMEA", "US")
    handoff = new_handoff(answers, records.PLACEHOLDER_OUTPUTS, Person(id="29:ana"), NOW)
    long_notes = handoff.notes.model_copy(update={"summary": "x" * 100_000})
    big = handoff_card(handoff.model_copy(update={"notes": long_notes}))
    body = results_body(Results(found=(Found(CARD_CONTENT_TYPE, big, case_preview(handoff)),)))
    [attachment] = body["composeExtension"]["attachments"]
    assert len(str(attachment["content"])) < 40_000


def test_the_action_answers_with_a_dialog_card_or_a_pop_up() -> None:
    card = {"type": "AdaptiveCard", "version": "1.5", "body": []}
    dialog = task_body(Card(card))["task"]
    assert dialog["type"] == "continue"
    assert dialog["value"]["card"] == {"contentType": CARD_CONTENT_TYPE, "content": card}
    assert dialog["value"]["title"] == "Hand off this case"
    assert task_body("Done") == {"task": {"type": "message", "value": "Done"}}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    opened = await open_store(f"sqlite:///{tmp_path / 'bot.db'}", FakeClock(NOW))
    yield opened
    await opened.close()


@pytest.fixture
def pipeline(store: SqlStore, tmp_path: Path) -> TurnPipeline:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["leads"] = [{"name": "Ana Lopez", "teams_id": "29:ana"}]
    data["case_system"] = {"url_template": TEMPLATE}
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return build_bot(
        store,
        load_process_config(path),
        FakeClock(NOW),
        delivery_abandoned_after=timedelta(seconds=15),
    )


@pytest.fixture
def adapter(pipeline: TurnPipeline) -> TestAdapter:
    made = TestAdapter(pipeline.bot.on_turn, template())
    pipeline.attach(made)
    return made


async def invoked(adapter: TestAdapter, name: str, value: Any) -> dict[str, Any]:
    adapter.activity_buffer.clear()
    await adapter.receive_activity(Activity(type=ActivityTypes.invoke, name=name, value=value))
    [answer] = adapter.activity_buffer
    assert answer.type == ActivityTypes.invoke_response
    assert answer.value.status == 200
    body: dict[str, Any] = answer.value.body
    return body


async def test_a_lead_finds_a_case_and_its_link_unfurls(
    adapter: TestAdapter, store: SqlStore
) -> None:
    # A word in the chat with the bot: it is remembered as Ana's chat with the bot.
    await adapter.receive_activity(Activity(type=ActivityTypes.message, text="help"))
    answers = records.answers(CASE, "EMEA", "US")
    await HandoffService(store, FakeClock(NOW)).request(
        answers, records.PLACEHOLDER_OUTPUTS, Person(id="29:bo", name="Bo")
    )
    query = {"commandId": "searchCases", "parameters": [{"name": "query", "value": "1234"}]}
    found = (await invoked(adapter, QUERY, query))["composeExtension"]
    assert [a["preview"]["content"]["title"] for a in found["attachments"]] == [
        f"Case {CASE} · Sev A · 24x7"
    ]
    link = {"url": TEMPLATE.format(case=CASE)}
    unfurled = (await invoked(adapter, QUERY_LINK, link))["composeExtension"]
    assert len(unfurled["attachments"]) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("composeExtension/query", None),
        ("composeExtension/query", "searchCases"),
        ("composeExtension/query", {"commandId": "searchCases", "parameters": "x"}),
        ("composeExtension/query", {"commandId": "searchCases", "parameters": [1, {"name": 2}]}),
        ("composeExtension/query", {"commandId": "searchCases", "queryOptions": {"skip": True}}),
        (
            "composeExtension/query",
            {"commandId": "searchCases", "parameters": [{"name": "query", "value": ["x"]}]},
        ),
        ("composeExtension/query", {"commandId": "searchCases", "queryOptions": {"skip": "2"}}),
        ("composeExtension/queryLink", {"url": 42}),
        ("composeExtension/queryLink", None),
        ("composeExtension/anonymousQueryLink", {"url": TEMPLATE.format(case=CASE)}),
        ("composeExtension/fetchTask", {"commandId": "handOffCase", "messagePayload": "x"}),
        ("composeExtension/fetchTask", {"commandId": None}),
        ("composeExtension/submitAction", {"commandId": "handOffCase", "data": "x"}),
        ("composeExtension/submitAction", {"commandId": "handOffCase", "data": {"case": 5}}),
    ],
)
async def test_any_value_is_answered_in_teams_shape(
    adapter: TestAdapter, name: str, value: Any
) -> None:
    body = await invoked(adapter, name, value)
    assert set(body) <= {"composeExtension", "task"} and body


async def test_the_outbox_begins_the_dialog_once_however_often_its_item_runs(
    pipeline: TurnPipeline, adapter: TestAdapter
) -> None:
    """HandoffBot.open_handoff, as the outbox's HandoffStarter runs it in Ana's chat: a retry
    of the same item (its completion lost) sends nothing; another item finds a handoff in
    progress and says so, keeping it."""
    ana = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-29:ana")
    draft = HandoffDraft(ana, None, "Summary: Lag since Friday", "Europe/Berlin", "item-1")

    async def run(item: HandoffDraft) -> list[Activity]:
        adapter.activity_buffer.clear()
        turn = TurnContext(adapter, template())
        await pipeline.bot.open_handoff(turn, item)
        return list(adapter.activity_buffer)

    first = await run(draft)
    assert [a.text for a in first][
        -1
    ] == "Which case do you want to hand off? Type its case number."
    assert await run(draft) == []
    other = await run(HandoffDraft(ana, CASE, "x", None, "item-2"))
    assert [a.text for a in other] == [finish_the_open_one_first(None)]
