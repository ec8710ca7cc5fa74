"""The compose box's search (searchCases) and link unfurling over real HTTP: what Teams shows in
the list, the case's card a result inserts (with "Open case"), what a stranger and a chat that
is not the team's are told, the person's own handoffs when the box opens, and a pasted link to
a case's page unfurled for a member only, never cached."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from application.compose.search import RESULTS_LIMIT, none_of_yours
from handoff import access
from handoff.models import Case, HandoffNotes, HandoffOutputs, Severity, SupportPlan
from handoff.request import HandoffAnswers
from handoff.service import HandoffService
from handoff.state_machine import Accept
from storage.sql_store import open_store

from conftest import FakeClock, RunningBot, StartBot
from harness import activities
from harness.card_schema import assert_valid_card
from harness.chat import all_text
from harness.compose import query, query_link
from harness.fake_connector import FakeConnector
from harness.handoff_flow import CASE, RECEIVER, TUESDAY, person, post, posted_card, refusals
from harness.ids import DEFAULT_TEAM_ID, DEFAULT_USER, TeamsUser, fake_user
from harness.team import settled, team_bot

STRANGER = fake_user("Olga Outsider")
NEWCOMER = fake_user("Nia New")
TEMPLATE = "https://support.example.com/cases/{case}"
TITLED = "2311230040005678"
THUMBNAIL = "application/vnd.microsoft.card.thumbnail"
ADAPTIVE = "application/vnd.microsoft.card.adaptive"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY)


async def request_case(
    url: str,
    clock: FakeClock,
    number: str,
    title: str,
    requester: TeamsUser = RECEIVER,
    *,
    accepted_by: TeamsUser | None = None,
) -> None:
    """`requester` hands case `number` ("`title`") from EMEA to US; `accepted_by` takes it."""
    store = await open_store(url, clock)
    try:
        service = HandoffService(store, clock)
        answers = HandoffAnswers(
            case=Case(
                number=number,
                severity=Severity.B,
                is_24x7=False,
                plan=SupportPlan.PROFESSIONAL,
                product_skill="Kafka",
                customer_region="US",
                customer_timezone="America/Chicago",
                title=title,
            ),
            owner_region="EMEA",
            target_region="US",
            kind_choice="between",
            reason="continual support",
            notes=HandoffNotes(summary=f"{title}: the summary."),
        )
        outputs = HandoffOutputs(
            title=f"<Need US SE> {title}",
            mail_to="q@example.invalid",
            mail_subject="s",
            mail_body="b",
            mailto_url="mailto:",
            notes_text="n",
            customer_message="c",
            next_step="x",
        )
        handoff = await service.request(answers, outputs, person(requester))
        if accepted_by is not None:
            taken = await service.act(handoff.id, Accept(actor=person(accepted_by)), 1)
            assert taken.changed, taken
    finally:
        await store.close()


@pytest.fixture
async def bot(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> RunningBot:
    running = await team_bot(
        start_bot,
        fake_connector,
        clock,
        sqlite_url,
        tmp_path,
        config={"case_system": {"url_template": TEMPLATE}},
    )
    clock.advance(timedelta(minutes=5))
    await request_case(sqlite_url, clock, TITLED, "Autoscale stops at 20 nodes")
    await settled(sqlite_url, clock)
    # Each has a chat with the bot (DEFAULT_USER's came with team_bot): a personal invoke is
    # from that chat.
    for user in (RECEIVER, STRANGER, NEWCOMER):
        await post(running, activities.bot_added_personal(fake_connector.url, **ids(user)))
    return running


def ids(user: TeamsUser) -> dict[str, Any]:
    return {"user_id": user.id, "aad_object_id": user.aad_object_id}


async def searched(bot: RunningBot, invoke: dict[str, Any]) -> dict[str, Any]:
    """The compose box's answer: the composeExtension Teams shows."""
    status, body = await post(bot, invoke)
    assert status == 200, (status, body)
    answer: dict[str, Any] = body["composeExtension"]
    return answer


def cases(answer: dict[str, Any]) -> list[str]:
    """The case numbers of the results, in the order shown (their inserted cards' headings)."""
    assert answer["type"] == "result" and answer["attachmentLayout"] == "list", answer
    return [
        a["content"]["body"][0]["text"].split()[1]
        for a in answer["attachments"]
        if a["contentType"] == ADAPTIVE
    ]


async def test_a_case_number_finds_its_card_with_a_preview_and_the_case_link(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    answer = await searched(bot, query(fake_connector.url, CASE))
    [result] = answer["attachments"]
    assert result["contentType"] == ADAPTIVE
    card = result["content"]
    assert_valid_card(card)
    assert f"Case {CASE}" in all_text(card)
    links = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    assert links == [
        {"type": "Action.OpenUrl", "title": "Open case", "url": TEMPLATE.format(case=CASE)}
    ]
    # The team's buttons: it goes into a conversation others read, never the requester's own.
    verbs = [a.get("verb") or a["card"]["actions"][0]["verb"] for a in card["actions"][:-1]]
    assert "cancel" not in verbs and "accept" in verbs
    assert result["preview"] == {
        "contentType": THUMBNAIL,
        "content": {
            "title": f"Case {CASE} · Sev A · 24x7",
            "subtitle": "EMEA → US · requested",
            "text": "HDInsight",
        },
    }


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("5678", [TITLED]),
        ("2311-2300", [TITLED, CASE]),  # the number as people copy it, newest change first
        ("autoscale NODES", [TITLED]),  # title words, any letter case, in any order
        ("need us se autoscale", [TITLED]),  # the internal title's words too
        ("  5678   autoscale ", [TITLED]),
    ],
)
async def test_part_of_a_number_or_words_of_a_title_find_the_handoffs(
    bot: RunningBot, fake_connector: FakeConnector, typed: str, found: list[str]
) -> None:
    assert cases(await searched(bot, query(fake_connector.url, typed))) == found


@pytest.mark.parametrize("typed", ["1234 autoscale", "nothing-like-it", "%", "_", "9" * 21])
async def test_what_matches_nothing_says_so(
    bot: RunningBot, fake_connector: FakeConnector, typed: str
) -> None:
    answer = await searched(bot, query(fake_connector.url, typed))
    assert answer["type"] == "message"
    assert answer["text"].startswith(("No open handoff", "A case number has 6 to 20 digits"))


async def test_open_handoffs_come_first_then_those_closed_lately_and_not_older_ones(
    bot: RunningBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    taken = {"requester": DEFAULT_USER, "accepted_by": RECEIVER}
    await request_case(sqlite_url, clock, "1000000001", "Zookeeper old", **taken)
    clock.advance(timedelta(days=10))
    await request_case(sqlite_url, clock, "1000000002", "Zookeeper recent", **taken)
    await request_case(sqlite_url, clock, "1000000003", "Zookeeper open")
    clock.advance(timedelta(days=5))  # the first closed 15 days ago, the second 5
    answer = await searched(bot, query(fake_connector.url, "zookeeper"))
    assert cases(answer) == ["1000000003", "1000000002"]
    accepted = answer["attachments"][1]["preview"]["content"]["subtitle"]
    assert accepted == f"EMEA → US · accepted by {RECEIVER.name}"


async def test_more_matches_than_shown_are_said_to_be_more(
    bot: RunningBot, fake_connector: FakeConnector, clock: FakeClock, sqlite_url: str
) -> None:
    for n in range(RESULTS_LIMIT + 2):
        await request_case(sqlite_url, clock, f"20000000{n:02d}", f"Kafka lag {n}")
    answer = await searched(bot, query(fake_connector.url, "kafka lag"))
    assert len(cases(answer)) == RESULTS_LIMIT
    last = answer["attachments"][-1]
    assert last["contentType"] == THUMBNAIL
    assert last["content"]["title"] == f"More handoffs match: these are the first {RESULTS_LIMIT}"


async def test_a_further_page_is_empty(bot: RunningBot, fake_connector: FakeConnector) -> None:
    invoke = query(fake_connector.url, CASE)
    invoke["value"]["queryOptions"]["skip"] = 25
    assert (await searched(bot, invoke))["attachments"] == []


async def test_opening_the_box_shows_the_persons_own_handoffs(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    mine = await searched(bot, query(fake_connector.url, None))
    assert cases(mine) == [CASE]
    also_empty = await searched(bot, query(fake_connector.url, "   "))
    assert cases(also_empty) == [CASE]
    theirs = await searched(bot, query(fake_connector.url, None, user=RECEIVER))
    assert cases(theirs) == [TITLED]


async def test_a_member_with_no_handoff_of_their_own_is_told_how_to_search(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    fake_connector.set_roster(DEFAULT_TEAM_ID, (DEFAULT_USER, RECEIVER, NEWCOMER))
    answer = await searched(bot, query(fake_connector.url, None, user=NEWCOMER))
    assert answer == {"type": "message", "text": none_of_yours()}


@pytest.mark.parametrize("typed", [CASE, None])
async def test_a_stranger_is_refused_and_the_refusal_logged(
    bot: RunningBot,
    fake_connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
    typed: str | None,
) -> None:
    with caplog.at_level(logging.WARNING):
        answer = await searched(bot, query(fake_connector.url, typed, user=STRANGER))
    assert answer == {"type": "message", "text": access.NOT_YOURS_TO_LIST}
    assert CASE not in str(answer)
    assert refusals(caplog, "read refused") == ["not in the team"]


async def test_in_a_group_chat_nothing_is_listed_and_in_the_teams_channel_it_is(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    in_chat = await searched(bot, query(fake_connector.url, CASE, scope="groupChat"))
    assert in_chat == {"type": "message", "text": access.NOT_SHOWN_HERE}
    in_channel = await searched(bot, query(fake_connector.url, CASE, scope="channel"))
    assert cases(in_channel) == [CASE]


async def test_in_a_chat_with_someone_else_no_case_is_shown(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    """Teams calls a chat between two people personal, as it does the chat with the bot."""
    with_bo = {"scope": "personal", "conversation_id": "19:ana_bo@unq.gbl.spaces"}
    searched_there = await searched(bot, query(fake_connector.url, CASE, **with_bo))
    assert searched_there == {"type": "message", "text": access.NOT_SHOWN_HERE}
    link = TEMPLATE.format(case=CASE)
    assert (await searched(bot, query_link(fake_connector.url, link, **with_bo)))[
        "attachments"
    ] == []


async def test_an_unknown_command_is_answered_in_words(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    invoke = query(fake_connector.url, CASE)
    invoke["value"]["commandId"] = "searchTickets"
    answer = await searched(bot, invoke)
    assert answer["type"] == "message" and "searchTickets" in answer["text"]


async def test_a_pasted_case_link_unfurls_into_the_case_card_never_cached(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    link = TEMPLATE.format(case=CASE) + "?tab=notes"
    answer = await searched(bot, query_link(fake_connector.url, link, scope="channel"))
    [result] = answer["attachments"]
    assert_valid_card(result["content"])
    assert f"Case {CASE}" in all_text(result["content"])
    assert result["preview"]["content"]["title"] == f"Case {CASE} · Sev A · 24x7"
    assert answer["suggestedActions"]["actions"] == [
        {"title": "default", "type": "setCachePolicy", "value": '{"type":"no-cache"}'}
    ]


@pytest.mark.parametrize(
    ("link", "user", "scope"),
    [
        (TEMPLATE.format(case=CASE), STRANGER, "personal"),  # not theirs to read
        (TEMPLATE.format(case=CASE), DEFAULT_USER, "groupChat"),  # not this case's chat
        (TEMPLATE.format(case="2399999999"), DEFAULT_USER, "personal"),  # no handoff
        ("https://support.example.com/tickets/" + CASE, DEFAULT_USER, "personal"),
        ("https://elsewhere.example/cases/" + CASE, DEFAULT_USER, "personal"),
    ],
)
async def test_a_link_nobody_may_see_here_stays_a_link(
    bot: RunningBot,
    fake_connector: FakeConnector,
    link: str,
    user: TeamsUser,
    scope: activities.Scope,
) -> None:
    answer = await searched(bot, query_link(fake_connector.url, link, user=user, scope=scope))
    assert answer["type"] == "result" and answer["attachments"] == []
    assert "suggestedActions" in answer  # not cached either: whoever pastes it next may read it


async def test_the_channel_card_has_the_open_case_button(
    bot: RunningBot, fake_connector: FakeConnector
) -> None:
    card, _ = await posted_card(fake_connector, TITLED)
    assert card["actions"][-1] == {
        "type": "Action.OpenUrl",
        "title": "Open case",
        "url": TEMPLATE.format(case=TITLED),
    }


async def test_without_a_case_system_links_do_not_unfurl_and_cards_have_no_button(
    start_bot: StartBot,
    fake_connector: FakeConnector,
    clock: FakeClock,
    sqlite_url: str,
    tmp_path: Path,
) -> None:
    bot = await team_bot(start_bot, fake_connector, clock, sqlite_url, tmp_path)
    answer = await searched(bot, query_link(fake_connector.url, TEMPLATE.format(case=CASE)))
    assert answer["attachments"] == []
    [result] = (await searched(bot, query(fake_connector.url, CASE)))["attachments"]
    assert all(a["type"] != "Action.OpenUrl" for a in result["content"]["actions"])
