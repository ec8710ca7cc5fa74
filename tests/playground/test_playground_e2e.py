"""The bot and the Microsoft 365 Agents Playground as real processes, driven over the
playground's own API: installed in a team, the Case Transfer channel bound, a whole handoff
in a personal chat, its card in the channel accepted by another engineer, the card updated
and the requester told."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from playground.launch import ROOT, Stack, playground_people, start

from conftest import free_port
from harness.chat import all_text, teams_values
from harness.playground_client import PlaygroundClient, StreamEvent

SCENARIO = json.loads((ROOT / "playground" / "scenario.json").read_text(encoding="utf-8"))
CASE = SCENARIO["case"]
FORMS: dict[str, dict[str, str]] = SCENARIO["forms"]
PEOPLE = playground_people()
BOT = (PEOPLE["bot"]["id"], PEOPLE["bot"]["name"])
EVERYONE = {user["id"]: user for user in [PEOPLE["currentUser"], *PEOPLE["users"]]}
REQUESTER = EVERYONE[SCENARIO["requester"]]
RECEIVER = EVERYONE[SCENARIO["receiver"]]
LEAD = EVERYONE[SCENARIO["lead"]]
PERSONAL_CHAT = PEOPLE["personalChat"]["id"]
TEAM = PEOPLE["team"]["id"]
CHANNEL = PEOPLE["team"]["channels"][0]["id"]


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    running = await asyncio.to_thread(
        start, tmp_path, bot_port=free_port(), playground_port=0, quiet=True
    )
    try:
        yield running
    finally:
        await asyncio.to_thread(running.stop)
        for process in (running.bot, running.playground):
            assert process.poll() is not None, f"process {process.pid} is still running"


@pytest.fixture
async def playground(stack: Stack) -> AsyncIterator[PlaygroundClient]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        client = PlaygroundClient(stack.playground_url, session)
        await client.connect()
        try:
            yield client
        finally:
            await client.close()


def from_bot(event: StreamEvent) -> bool:
    return bool(event.message.get("from", {}).get("id") == BOT[0])


def form_card(event: StreamEvent) -> str | None:
    card = event.card
    if card is None:
        return None
    forms = {a["data"]["form"] for a in card.get("actions", []) if "form" in a.get("data", {})}
    return forms.pop() if len(forms) == 1 else None


async def answer_form(
    playground: PlaygroundClient, shown: StreamEvent, **changes: str
) -> StreamEvent:
    """Fills the form card `shown` as a person would and waits for the bot's next card."""
    card = shown.card
    assert card is not None
    form = form_card(shown)
    after = len(playground.events)
    values: dict[str, Any] = {"form": form, "action": "next", **teams_values(card, **changes)}
    await playground.submit(PERSONAL_CHAT, REQUESTER["id"], shown.message_id, values)
    # The next card in the requester's chat: the channel's cards come at their own pace.
    return await playground.wait_for(
        lambda e: from_bot(e) and e.card is not None and e.conversation_id == PERSONAL_CHAT,
        f"the card after the {form} form",
        after,
    )


async def test_a_handoff_runs_end_to_end_through_the_playground(
    playground: PlaygroundClient, stack: Stack
) -> None:
    await playground.custom_activity(TEAM, "install")
    await playground.custom_activity(TEAM, "botAdded")
    await playground.wait_for(lambda e: e.conversation_id == TEAM and from_bot(e), "team welcome")

    await playground.say(CHANNEL, LEAD["id"], "setup", mention=BOT)
    await playground.wait_for(
        lambda e: "now the Case Transfer channel" in e.text, "the channel bound"
    )

    after = len(playground.events)
    await playground.say(PERSONAL_CHAT, REQUESTER["id"], f"handoff {CASE}")
    shown = await playground.wait_for(lambda e: form_card(e) == "case", "the case form", after)
    contact = datetime.now(UTC).date() + timedelta(days=SCENARIO["next_contact_in_days"])
    shown = await answer_form(playground, shown, **FORMS["case"])
    assert form_card(shown) == "transfer", shown.text
    shown = await answer_form(playground, shown, **FORMS["transfer"])
    assert form_card(shown) == "notes", shown.text
    shown = await answer_form(
        playground, shown, **FORMS["notes"], next_contact_date=contact.isoformat()
    )
    if form_card(shown) == "meeting":
        shown = await answer_form(playground, shown, **FORMS["meeting"])
    assert form_card(shown) == "review", all_text(shown.card or {})
    after = len(playground.events)
    await playground.submit(
        PERSONAL_CHAT, REQUESTER["id"], shown.message_id, {"form": "review", "action": "next"}
    )

    posted = await playground.wait_for(
        lambda e: (
            e.conversation_id.startswith(CHANNEL)
            and e.card is not None
            and f"Case {CASE}" in all_text(e.card)
        ),
        "the handoff card in the Case Transfer channel",
        after,
    )
    card = posted.card
    assert card is not None
    assert f"Requested by <at>{REQUESTER['name']}</at>" in all_text(card)
    [accept] = [a for a in card["actions"] if a.get("verb") == "accept"]

    after = len(playground.events)
    answer = await playground.execute(
        posted.thread_id, RECEIVER["id"], posted.message_id, "accept", accept["data"]
    )
    assert answer["type"] == "application/vnd.microsoft.card.adaptive", answer
    assert f"Accepted by {RECEIVER['name']}" in all_text(answer["value"]), (
        "the clicker sees the refreshed card at once"
    )

    updated = await playground.wait_for(
        lambda e: (
            e.action == "updateMessage"
            and e.card is not None
            and f"Accepted by {RECEIVER['name']}" in all_text(e.card)
        ),
        "the channel card updated in place",
        after,
    )
    assert updated.message_id == posted.message_id
    told = await playground.wait_for(
        lambda e: e.conversation_id.startswith(PERSONAL_CHAT) and "accepted your handoff" in e.text,
        "the requester told",
        after,
    )
    assert told.text == f"{RECEIVER['name']} accepted your handoff of case {CASE} and owns it now."

    after = len(playground.events)
    await playground.say(PERSONAL_CHAT, REQUESTER["id"], f"status {CASE}")
    status = await playground.wait_for(
        lambda e: from_bot(e) and e.card is not None and f"Case {CASE}" in all_text(e.card),
        "the status card",
        after,
    )
    assert f"Accepted by {RECEIVER['name']}" in all_text(status.card or {})

    # Reading the team's open handoffs asks the playground's connector whether the reader is
    # in the Case Transfer team, as Teams would be asked.
    after = len(playground.events)
    await playground.say(PERSONAL_CHAT, REQUESTER["id"], "list")
    listed = await playground.wait_for(
        lambda e: from_bot(e) and e.card is not None and "Open handoffs" in all_text(e.card),
        "the list of open handoffs",
        after,
    )
    waiting = all_text(listed.card or {})
    assert stack.waiting.case in waiting, "the seeded handoff still waits for an owner"
    assert CASE not in waiting, "the accepted one does not"


async def test_the_waiting_handoff_is_accepted_by_clicking_only(
    playground: PlaygroundClient, stack: Stack
) -> None:
    """The README's walk-through: another engineer's handoff waits; the person at the
    keyboard binds the channel and presses Accept, with nothing typed but `setup`."""
    waiting = stack.waiting
    me = PEOPLE["currentUser"]
    assert waiting.created and waiting.requester != me["name"]
    await playground.custom_activity(TEAM, "install")
    await playground.custom_activity(TEAM, "botAdded")
    await playground.wait_for(lambda e: e.conversation_id == TEAM and from_bot(e), "team welcome")

    await playground.say(CHANNEL, me["id"], "setup", mention=BOT)
    posted = await playground.wait_for(
        lambda e: (
            e.conversation_id.startswith(CHANNEL)
            and e.card is not None
            and f"Case {waiting.case}" in all_text(e.card)
        ),
        "the waiting handoff posted once the channel is bound",
    )
    card = posted.card
    assert card is not None
    shown = all_text(card)
    assert f"Requested by <at>{waiting.requester}</at>" in shown
    assert "APAC" in shown and "EMEA" in shown, shown
    [accept] = [a for a in card["actions"] if a.get("verb") == "accept"]

    after = len(playground.events)
    answer = await playground.execute(
        posted.thread_id, me["id"], posted.message_id, "accept", accept["data"]
    )
    assert f"Accepted by {me['name']}" in all_text(answer["value"]), answer
    await playground.wait_for(
        lambda e: (
            e.action == "updateMessage"
            and e.message_id == posted.message_id
            and f"Accepted by {me['name']}" in all_text(e.card or {})
        ),
        "the channel card updated in place",
        after,
    )
    after = len(playground.events)
    await playground.say(PERSONAL_CHAT, me["id"], "mine")
    mine = await playground.wait_for(
        lambda e: from_bot(e) and e.conversation_id.startswith(PERSONAL_CHAT), "mine", after
    )
    assert waiting.case in all_text(mine.card or {}) + mine.text, "the case is mine now"


async def test_the_compose_box_finds_a_case_and_hands_off_a_message_in_the_playground(
    playground: PlaygroundClient, stack: Stack
) -> None:
    """docs/playground.md's "The compose box": the playground sends the message extension's
    invokes as Teams does (its manifest unread: the command ids are typed in)."""
    waiting = stack.waiting
    me = PEOPLE["currentUser"]
    await playground.custom_activity(TEAM, "install")
    await playground.custom_activity(TEAM, "botAdded")
    await playground.wait_for(lambda e: e.conversation_id == TEAM and from_bot(e), "team welcome")
    await playground.say(CHANNEL, me["id"], "setup", mention=BOT)
    await playground.wait_for(lambda e: "now the Case Transfer channel" in e.text, "the binding")

    query = {"commandId": "searchCases", "parameters": [{"name": "query", "value": waiting.case}]}
    found = await playground.compose("composeExtension/query", CHANNEL, me["id"], query)
    [result] = found["composeExtension"]["attachments"]
    assert f"Case {waiting.case}" in all_text(result["content"])
    assert result["preview"]["content"]["title"].startswith(f"Case {waiting.case}")

    # The handoff opens in the personal chat: the bot knows it once it has been written to.
    after = len(playground.events)
    await playground.say(PERSONAL_CHAT, me["id"], "help")
    await playground.wait_for(lambda e: from_bot(e) and "What I can do" in e.text, "help", after)
    message = {"body": {"contentType": "html", "content": "<p>Summary: Lag since Friday</p>"}}
    fetch = {"commandId": "handOffCase", "commandContext": "message", "messagePayload": message}
    dialog = await playground.compose("composeExtension/fetchTask", CHANNEL, me["id"], fetch)
    assert dialog["task"]["type"] == "continue"
    after = len(playground.events)
    submit = {**fetch, "data": {"case": "2311230040007777"}}
    said = await playground.compose("composeExtension/submitAction", CHANNEL, me["id"], submit)
    assert said["task"]["value"].startswith("I opened the handoff of case 2311230040007777")
    shown = await playground.wait_for(lambda e: form_card(e) == "case", "the case form", after)
    assert shown.conversation_id.startswith(PERSONAL_CHAT)
