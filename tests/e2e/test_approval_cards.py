"""R-ESC's approval cards over real HTTP, one outbox item per Team Leader in that lead's chat:
a failing or unreachable lead holds up no other, every lead's card is updated in place after
a decision, and the engineer hears when the card reached nobody."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from config.settings import DEFAULT_CONFIG_PATH
from handoff import effects
from handoff.escalation import decide, request_escalation
from handoff.models import Person, Severity
from handoff.ports import CardRef, OutboxMessage, SystemClock
from storage.sql_store import open_store

from conftest import RunningBot, StartBot
from harness import activities
from harness.chat import all_text
from harness.escalation_case import REQUESTER, requested_case
from harness.fake_connector import FakeConnector, RecordedRequest
from harness.handoff_flow import user_fields
from harness.ids import DEFAULT_BOT_ID, DEFAULT_USER, TeamsUser, fake_user, personal_conversation_id

CASE = "2311230040005678"
TARA = fake_user("Tara Lead")
UMA = fake_user("Uma Lead")
VIC = fake_user("Vic Lead")
# Retries in milliseconds instead of minutes.
FAST_RETRIES = {
    "OUTBOX_BACKOFF_SECONDS": "0.01",
    "OUTBOX_BACKOFF_CAP_SECONDS": "0.05",
    "OUTBOX_POLL_SECONDS": "0.05",
    "OUTBOX_MAX_ATTEMPTS": "60",
}
REACHED_NOBODY = "reached no Team Leader"
NOT_REACHED = "did not reach the people they were for"


def chat_of(user: TeamsUser) -> str:
    return personal_conversation_id(user.id, DEFAULT_BOT_ID)


def is_approval_card(record: RecordedRequest, user: TeamsUser, method: str = "POST") -> bool:
    """A request that showed `user` an approval card (a send, or with PUT an update)."""
    body = record.body if isinstance(record.body, dict) else {}
    attachments = body.get("attachments") or []
    return (
        record.method == method
        and 200 <= record.status < 300
        and chat_of(user) in record.path
        and bool(attachments)
        and "Escalate case" in all_text(attachments[0]["content"])
    )


def cards_of(connector: FakeConnector, user: TeamsUser) -> list[RecordedRequest]:
    return [r for r in connector.requests if is_approval_card(r, user)]


async def card_of(connector: FakeConnector, user: TeamsUser) -> RecordedRequest:
    [record] = await connector.wait_for(
        lambda r: is_approval_card(r, user), description=f"{user.name}'s approval card"
    )
    return record


async def card_updated(connector: FakeConnector, user: TeamsUser) -> RecordedRequest:
    [record] = await connector.wait_for(
        lambda r: is_approval_card(r, user, "PUT"), description=f"{user.name}'s card updated"
    )
    return record


def told(connector: FakeConnector, words: str) -> list[dict[str, Any]]:
    return [
        a for a in connector.activities(chat_of(DEFAULT_USER)) if words in (a.get("text") or "")
    ]


def config(tmp_path: Path, leads: Sequence[TeamsUser]) -> str:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    # The requester is a lead too: never asked to decide their own escalation.
    data["leads"] = [
        {"name": lead.name, "teams_id": lead.aad_object_id} for lead in (*leads, DEFAULT_USER)
    ]
    path = tmp_path / "handoff.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


async def started(
    start_bot: StartBot,
    connector: FakeConnector,
    url: str,
    tmp_path: Path,
    leads: Sequence[TeamsUser],
    installed: Sequence[TeamsUser],
    **settings: str,
) -> RunningBot:
    """The bot with `leads` (and the requester) as Team Leaders; `installed` and the
    requester have a personal chat with it."""
    await requested_case(url, SystemClock(), CASE, severity=Severity.B)
    bot = await start_bot(
        DATABASE_URL=url, HANDOFF_CONFIG=config(tmp_path, leads), **{**FAST_RETRIES, **settings}
    )
    for user in (*installed, DEFAULT_USER):
        await bot.client.post(
            activities.bot_added_personal(
                connector.url, user_id=user.id, aad_object_id=user.aad_object_id
            )
        )
    return bot


async def escalate(bot: RunningBot, connector: FakeConnector) -> None:
    status, _ = await bot.client.post(
        activities.personal_message(f"escalate {CASE}", connector.url)
    )
    assert status in (200, 201)


async def press(
    bot: RunningBot, connector: FakeConnector, record: RecordedRequest, user: TeamsUser
) -> dict[str, Any]:
    card = record.body["attachments"][0]["content"]
    [button] = [a for a in card["actions"] if a.get("verb") == "esc_approve"]
    invoke = activities.card_action_invoke(
        "esc_approve",
        button["data"],
        connector.url,
        str(record.response["id"]),
        **user_fields(user),
    )
    status, body = await bot.client.post(invoke)
    assert status == 200
    return dict(body)


async def outbox_rows(url: str, key_start: str) -> list[dict[str, Any]]:
    store = await open_store(url, SystemClock())
    try:
        rows = await store.database.fetch_all(
            "SELECT dedupe_key, state, last_error, lane FROM outbox WHERE dedupe_key LIKE ? "
            "ORDER BY id",
            key_start + "%",
        )
    finally:
        await store.close()
    return [dict(row) for row in rows]


async def until_settled(url: str, key_start: str, count: int) -> list[dict[str, Any]]:
    """The outbox rows keyed `key_start…`, once `count` of them are done or dead."""
    for _ in range(400):
        rows = await outbox_rows(url, key_start)
        if sum(row["state"] != "pending" for row in rows) >= count:
            return rows
        await asyncio.sleep(0.025)
    raise AssertionError(f"{count} outbox item(s) {key_start}… never settled: {rows}")


async def test_a_lead_whose_chat_keeps_failing_holds_up_no_other_lead(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, tmp_path: Path
) -> None:
    bot = await started(
        start_bot, fake_connector, database_url, tmp_path, [TARA, UMA], installed=[TARA, UMA]
    )
    # Tara comes first in the configuration, and her chat answers 503 six times running.
    fake_connector.fail_next(503, count=6, method="POST", path_contains=chat_of(TARA))
    await escalate(bot, fake_connector)

    uma_card = await card_of(fake_connector, UMA)
    tara_card = await card_of(fake_connector, TARA)
    requests = fake_connector.requests
    tara_failures = [
        i
        for i, r in enumerate(requests)
        if r.method == "POST" and chat_of(TARA) in r.path and r.status == 503
    ]
    assert len(tara_failures) == 6
    assert requests.index(uma_card) < tara_failures[-1], "Uma's card went out while Tara's failed"
    assert requests.index(tara_card) > tara_failures[-1]
    # Each lead's card is its own item in that lead's chat lane; the requester gets none.
    rows = await until_settled(database_url, "send_approval_card:", 2)
    assert sorted(row["lane"] for row in rows) == sorted(
        effects.chat_lane(Person(id=str(u.aad_object_id))) for u in (TARA, UMA)
    )
    assert [len(cards_of(fake_connector, u)) for u in (TARA, UMA, DEFAULT_USER)] == [1, 1, 0]
    assert not fake_connector.resent, "a retried item does not send a card again"


async def test_a_lead_the_bot_cannot_reach_does_not_stop_the_others(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, tmp_path: Path
) -> None:
    # Tara removed the bot (her chat answers 403) and Vic never installed it; both come
    # before Uma in the configuration.
    bot = await started(
        start_bot,
        fake_connector,
        database_url,
        tmp_path,
        [TARA, VIC, UMA],
        installed=[TARA, UMA],
    )
    # Every message to her chat is refused, the admins' report of dead letters included.
    fake_connector.fail_next(403, count=10, method="POST", path_contains=chat_of(TARA))
    await escalate(bot, fake_connector)

    uma_card = await card_of(fake_connector, UMA)
    rows = await until_settled(database_url, "send_approval_card:", 2)
    states = {row["lane"]: row["state"] for row in rows}
    assert states == {f"chat:{TARA.aad_object_id}": "dead", f"chat:{UMA.aad_object_id}": "done"}
    assert "403" in next(row["last_error"] for row in rows if row["state"] == "dead")

    # Uma decides: her card is updated in place; Tara's and Vic's never-sent cards are not.
    await press(bot, fake_connector, uma_card, UMA)
    updated = await card_updated(fake_connector, UMA)
    assert updated.activity_id == uma_card.response["id"]
    await fake_connector.wait_for_activities(
        conversation_id=chat_of(DEFAULT_USER),
        predicate=lambda a: "decided the escalation" in (a.get("text") or ""),
    )
    updates = await until_settled(database_url, "update_approval_card:", 3)
    assert {row["state"] for row in updates} == {"done"}
    puts = [r for r in fake_connector.requests if r.method == "PUT"]
    assert [r.activity_id for r in puts] == [uma_card.response["id"]]
    assert cards_of(fake_connector, TARA) == cards_of(fake_connector, VIC) == []
    # Uma got the card, so the engineer is not told that nobody did; they hear that Tara
    # did not (Vic was never asked: he has no chat with the bot, as they were told at once).
    assert told(fake_connector, REACHED_NOBODY) == []
    [said] = await fake_connector.wait_for_activities(
        conversation_id=chat_of(DEFAULT_USER), predicate=lambda a: NOT_REACHED in a["text"]
    )
    assert (
        f"the approval card for escalating case {CASE} to the vendor, for Tara Lead"
        in (said["text"])
    )
    assert "Uma Lead" not in said["text"]


async def test_after_a_decision_every_leads_card_is_updated_in_place_once(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, tmp_path: Path
) -> None:
    bot = await started(
        start_bot, fake_connector, database_url, tmp_path, [TARA, UMA], installed=[TARA, UMA]
    )
    await escalate(bot, fake_connector)
    # Teams delivers the command again under a new id: the escalation is already waiting.
    await escalate(bot, fake_connector)
    tara_card = await card_of(fake_connector, TARA)
    uma_card = await card_of(fake_connector, UMA)

    first = await press(bot, fake_connector, tara_card, TARA)
    again = await press(bot, fake_connector, tara_card, TARA)
    assert first["value"] == again["value"]
    for user, card in ((TARA, tara_card), (UMA, uma_card)):
        put = await card_updated(fake_connector, user)
        assert put.activity_id == card.response["id"], "updated in place, not sent anew"
        assert "Approved by Tara Lead" in all_text(put.body["attachments"][0]["content"])
    assert [len(cards_of(fake_connector, u)) for u in (TARA, UMA, DEFAULT_USER)] == [1, 1, 0]
    # One send and one update per lead, whatever was repeated.
    sends = await outbox_rows(database_url, "send_approval_card:")
    updates = await outbox_rows(database_url, "update_approval_card:")
    assert (len(sends), len(updates)) == (2, 2)
    assert told(fake_connector, "already waits for a Team Leader's decision")


async def test_when_every_leads_card_fails_for_good_the_requester_is_told_once(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, tmp_path: Path
) -> None:
    bot = await started(
        start_bot,
        fake_connector,
        database_url,
        tmp_path,
        [TARA, UMA],
        installed=[TARA, UMA],
        OUTBOX_MAX_ATTEMPTS="3",
    )
    # Tara's chat is gone at once (403); Uma's fails until her item runs out of attempts.
    # (Each chat keeps failing: the admins' report of dead letters cannot reach them either.)
    fake_connector.fail_next(403, count=10, method="POST", path_contains=chat_of(TARA))
    fake_connector.fail_next(503, count=10, method="POST", path_contains=chat_of(UMA))
    await escalate(bot, fake_connector)

    [said] = await fake_connector.wait_for_activities(
        conversation_id=chat_of(DEFAULT_USER), predicate=lambda a: REACHED_NOBODY in a["text"]
    )
    assert f"The approval card for escalating case {CASE} reached no Team Leader" in said["text"]
    assert "(Tara Lead and Uma Lead)" in said["text"] and "outbox retry" in said["text"]
    requests = fake_connector.requests
    last_failure = max(
        i for i, r in enumerate(requests) if chat_of(UMA) in r.path and r.status == 503
    )
    told_at = next(
        i
        for i, r in enumerate(requests)
        if chat_of(DEFAULT_USER) in r.path and REACHED_NOBODY in str(r.body)
    )
    assert told_at > last_failure, "told only once the last lead's card had failed for good"
    rows = await outbox_rows(database_url, "send_approval_card:")
    assert {row["state"] for row in rows} == {"dead"}
    # Said once, in those words: the report of undelivered messages leaves these cards out.
    [report] = await until_settled(database_url, "report_undelivered:", 1)
    assert report["state"] == "done"
    assert told(fake_connector, NOT_REACHED) == []

    # What the message says works: the leads' chats work again, a lead retries the dead
    # letters, the cards go out, and the engineer is not told again.
    fake_connector.clear()
    status, _ = await bot.client.post(
        activities.personal_message("outbox retry all", fake_connector.url, **user_fields(UMA))
    )
    assert status in (200, 201)
    await card_of(fake_connector, TARA)
    await card_of(fake_connector, UMA)
    assert told(fake_connector, REACHED_NOBODY) == []
    told_rows = await outbox_rows(database_url, "tell:escalation:")
    assert [row["dedupe_key"].endswith(":reached-nobody:" + REQUESTER.id) for row in told_rows] == [
        True
    ]


async def test_an_old_item_for_leads_without_a_personal_chat_tells_the_requester(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, tmp_path: Path
) -> None:
    """An item of the old layout (one for every lead) left from before the upgrade, whose
    leads never installed the bot: each lead's part is a dead letter at once, and since none
    is left, the engineer hears that the card reached nobody."""
    await started(start_bot, fake_connector, database_url, tmp_path, [VIC, UMA], installed=[])
    store = await open_store(database_url, SystemClock())
    try:
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None
        escalation = request_escalation(handoff.notes, CASE, REQUESTER, SystemClock().now())
        await store.add_escalation(escalation, [old_item(escalation.id, 1, update=False)])
    finally:
        await store.close()

    [said] = await fake_connector.wait_for_activities(
        conversation_id=chat_of(DEFAULT_USER), predicate=lambda a: REACHED_NOBODY in a["text"]
    )
    assert "(Vic Lead and Uma Lead)" in said["text"]
    rows = await outbox_rows(database_url, "send_approval_card:")
    assert [row["state"] for row in rows] == ["dead", "dead"]
    assert "no personal chat with Team Leader Vic Lead" in rows[0]["last_error"]


async def test_an_item_for_every_lead_left_from_before_the_upgrade_is_split_per_lead(
    start_bot: StartBot, fake_connector: FakeConnector, database_url: str, tmp_path: Path
) -> None:
    """Items of the old layout (one for every lead, lane escalation:<id>) still waiting when
    the new version starts are carried out per lead; a card the old item sent before is
    not sent again, and a decision's old item updates every lead's card."""
    await started(
        start_bot,
        fake_connector,
        database_url,
        tmp_path,
        [TARA, VIC, UMA],
        installed=[TARA, UMA],
    )
    store = await open_store(database_url, SystemClock())
    try:
        handoff = await store.latest_for_case(CASE)
        assert handoff is not None
        escalation = request_escalation(handoff.notes, CASE, REQUESTER, SystemClock().now())
        await store.add_escalation(escalation)
        # The old item had reached Tara before the upgrade.
        await store.add_escalation_card(
            escalation.id, CardRef(conversation_id=chat_of(TARA), activity_id="sent-before")
        )
        await store.enqueue_message(old_item(escalation.id, 1, update=False))
    finally:
        await store.close()

    await card_of(fake_connector, UMA)
    rows = await until_settled(database_url, "send_approval_card:", 3)
    # Vic never installed the bot: his part is a dead letter; Uma has her card, so the
    # engineer is not told that nobody got it.
    assert [row["state"] for row in rows] == ["done", "dead", "done"]
    assert cards_of(fake_connector, TARA) == cards_of(fake_connector, VIC) == []

    store = await open_store(database_url, SystemClock())
    try:
        tara = Person(id=TARA.id, name=TARA.name, aad_object_id=TARA.aad_object_id)
        decided = decide(escalation, "esc_approve", tara, "", SystemClock().now())
        await store.save_escalation(decided, 1, [old_item(escalation.id, 2, update=True)])
    finally:
        await store.close()
    for user in (TARA, UMA):
        await card_updated(fake_connector, user)
    assert [r.activity_id for r in fake_connector.requests if is_approval_card(r, TARA, "PUT")] == [
        "sent-before"
    ]
    nobody = await outbox_rows(database_url, f"tell:escalation:{escalation.id}:reached-nobody")
    assert nobody == []


def old_item(escalation_id: str, version: int, *, update: bool) -> OutboxMessage:
    kind = (
        effects.OutboxKind.UPDATE_APPROVAL_CARDS
        if update
        else effects.OutboxKind.SEND_APPROVAL_CARDS
    )
    return OutboxMessage(
        kind=kind,
        payload={"escalation_id": escalation_id},
        dedupe_key=f"{kind}:{escalation_id}:v{version}",
        not_before=SystemClock().now(),
        lane=f"escalation:{escalation_id}",
    )
