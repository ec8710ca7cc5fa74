"""The refresh of the Case Transfer card (CardActions.refresh) as a use case over a real SQLite
file: each reader gets their own copy, decided by the rules the clicks obey (every button a
copy shows is one its reader's click is allowed), with one read, no membership look-up and
nothing written; card data that does not hold is refused with a message."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from application import messages
from application.request import Request
from application.transfers import ActionResult, CardAction, CardActions, read_invoke
from cards.user_views import REFRESH_VERB
from handoff.models import Handoff, HandoffState, Person
from handoff.ports import CardRef, ConversationKind
from handoff.state_machine import (
    Accept,
    Command,
    EscalateToSme,
    RequestMoreInfo,
    SendBackToQueue,
    Verb,
)

from harness import records
from harness.ids import DEFAULT_CHANNEL_ID, DEFAULT_TEAM_ID
from harness.scenario import ANA, BO, STRANGER, Scenario, buttons, open_scenario, process_with

LEAD = Person(id="aad-lead", name="Lee Lead", aad_object_id="aad-lead")
CAROL = Person(id="29:carol", name="Carol Member", aad_object_id="aad-carol")
CASE_TRANSFER = {
    "team_id": DEFAULT_TEAM_ID,
    "channel_id": DEFAULT_CHANNEL_ID,
    "allowed_teams": [],
    "allowed_groups": [],
}
# What each reader's copy shows as buttons, for a requested Sev A 24x7 handoff naming BO.
OWN_BUTTONS = {
    ANA.id: {"back_to_queue", "cancel"},
    BO.id: {"accept"},
    LEAD.id: {"back_to_queue", "escalate"},
    CAROL.id: {"accept", "more_info"},
    STRANGER.id: {"accept", "more_info"},
}
# What a button needs typed in its box first.
INPUTS: dict[str, dict[str, str]] = {
    Verb.MORE_INFO: {"question": "Which logs?"},
    Verb.BACK_TO_QUEUE: {"reason": "Nobody in US this week"},
    Verb.LONG_RUNNING: {"why": "The customer works in two zones"},
    Verb.PROVIDE_INFO: {"answer": "The logs are attached."},
}


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    """A lead configured; BO and CAROL in the Case Transfer team, STRANGER not."""
    process = process_with(
        tmp_path,
        leads=[{"name": LEAD.name, "teams_id": LEAD.id}],
        case_transfer=CASE_TRANSFER,
    )
    async for opened in open_scenario(tmp_path, process):
        opened.join(BO)
        opened.join(CAROL)
        yield opened


async def requested(scenario: Scenario, number: str, engineer: Person | None = BO) -> Handoff:
    """ANA hands `number` from EMEA to US (naming `engineer`); its card is posted as the
    message `card:<number>`."""
    answers = records.answers(number, "EMEA", "US")
    if engineer is not None:
        answers = replace(
            answers, target_engineer=engineer.id, target_engineer_name=engineer.name or ""
        )
    handoff = await scenario.use_cases.service.request(answers, records.PLACEHOLDER_OUTPUTS, ANA)
    await scenario.store.set_card(
        handoff.id, CardRef(conversation_id=DEFAULT_CHANNEL_ID, activity_id=f"card:{number}")
    )
    return handoff


def on_card(scenario: Scenario, actor: Person, handoff: Handoff) -> Request:
    return scenario.request(
        actor, kind=ConversationKind.CHANNEL, message_id=f"card:{handoff.case.number}"
    )


def refresh_of(handoff: Handoff, **data: Any) -> CardAction:
    """The refresh invoke Teams sends for the handoff's card (its data as given, if given)."""
    data = data or {"handoff_id": handoff.id, "version": handoff.version}
    value = {"action": {"type": "Action.Execute", "verb": REFRESH_VERB, "data": data}}
    action = read_invoke({**value, "trigger": "automatic"})
    assert isinstance(action, CardAction), action
    return action


async def refresh(scenario: Scenario, handoff: Handoff, actor: Person) -> ActionResult:
    return await scenario.use_cases.card_actions.refresh(
        refresh_of(handoff), on_card(scenario, actor, handoff)
    )


def own_buttons(card: dict[str, Any]) -> set[str]:
    """The verbs of the card's buttons shown as buttons (not in the overflow menu)."""
    own = set()
    for action in card.get("actions", []):
        if action.get("mode") == "secondary":
            continue
        inner = action.get("card", {}).get("actions", [action])
        own |= {str(a["verb"]) for a in inner if "verb" in a}
    return own


async def test_each_reader_gets_their_own_copy(scenario: Scenario) -> None:
    handoff = await requested(scenario, "2311230040000001")
    for person, expected in ((p, OWN_BUTTONS[p.id]) for p in (ANA, BO, LEAD, CAROL, STRANGER)):
        result = await refresh(scenario, handoff, person)
        assert result.card is not None, person.name
        assert own_buttons(result.card) == expected, person.name
        assert result.message == "" and not result.done
    # A stranger gets the team's card, with none of the role buttons.
    stranger = await refresh(scenario, handoff, STRANGER)
    assert stranger.card is not None
    assert not {"cancel", "back_to_queue", "provide_info"} & set(buttons(stranger.card))


async def test_a_copy_with_buttons_of_its_own_keeps_refreshing_for_its_reader(
    scenario: Scenario,
) -> None:
    handoff = await requested(scenario, "2311230040000002")
    mine = await refresh(scenario, handoff, ANA)
    assert mine.card is not None and mine.card["refresh"]["userIds"] == [ANA.id]
    # The team's copy waits for the next update of the message (or Refresh in its menu).
    theirs = await refresh(scenario, handoff, CAROL)
    assert theirs.card is not None and theirs.card["refresh"]["userIds"] == []


async def test_the_named_engineer_known_by_an_address_gets_their_copy(
    scenario: Scenario,
) -> None:
    """A receiver named by e-mail is known by the addresses a membership look-up gave for
    them, which the refresh reads without asking Teams again."""
    named = Person(id="bo.receiver@contoso.example", name="Bo Receiver")
    handoff = await requested(scenario, "2311230040000003", engineer=named)
    plain = on_card(scenario, BO, handoff)
    result = await scenario.use_cases.card_actions.refresh(refresh_of(handoff), plain)
    assert result.card is not None and own_buttons(result.card) == {"accept", "more_info"}
    known = replace(plain, addresses=lambda: frozenset({"bo.receiver@contoso.example"}))
    result = await scenario.use_cases.card_actions.refresh(refresh_of(handoff), known)
    assert result.card is not None and own_buttons(result.card) == {"accept"}


class CountingStore:
    """The real store, with the name of every method the use case calls on it recorded."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._store, name)
        if not callable(method):
            return method

        def called(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return method(*args, **kwargs)

        return called


async def test_a_refresh_reads_once_asks_no_one_and_writes_nothing(scenario: Scenario) -> None:
    handoff = await requested(scenario, "2311230040000004")
    store = CountingStore(scenario.store)
    actions = CardActions(
        scenario.use_cases.service, store, scenario.use_cases.access.policy, scenario.clock
    )
    asked: list[str] = []

    async def member_of(team: str) -> bool | None:
        asked.append(team)
        return True

    before = await scenario.queued()
    for person in (ANA, BO, LEAD, CAROL, STRANGER):
        request = replace(on_card(scenario, person, handoff), member_of=member_of)
        store.calls.clear()
        result = await actions.refresh(refresh_of(handoff), request)
        assert result.card is not None
        assert store.calls == ["with_card"], person.name
    assert asked == [], "a refresh never asks Teams who is in the team"
    assert await scenario.queued() == before
    assert await scenario.store.get(handoff.id) == handoff
    rows = await scenario.store.database.fetch_all("SELECT key FROM handled_keys")
    assert rows == [], "a refresh is no click"


async def test_an_old_version_gets_the_current_card(scenario: Scenario) -> None:
    handoff = await requested(scenario, "2311230040000005")
    taken = await scenario.use_cases.service.act(handoff.id, Accept(actor=BO))
    assert taken.changed
    result = await refresh(scenario, handoff, ANA)
    assert result.card is not None
    assert result.card["refresh"]["action"]["data"]["version"] == taken.handoff.version
    assert "Accepted by Bo Receiver" in str(result.card)
    assert own_buttons(result.card) == set()


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"handoff_id": "nope", "version": 1}, "That handoff no longer exists."),
        ({"version": 1}, "That card does not name a handoff. Use the buttons of the latest card."),
        ({"handoff_id": "x", "version": "1"}, messages.forged_card()),
    ],
)
async def test_refresh_data_that_does_not_hold_gets_a_message(
    scenario: Scenario, data: dict[str, Any], said: str
) -> None:
    value = {"action": {"verb": REFRESH_VERB, "data": data}, "trigger": "automatic"}
    action = read_invoke(value)
    if isinstance(action, str):
        assert action == said
        return
    result = await scenario.use_cases.card_actions.refresh(
        action, scenario.request(ANA, kind=ConversationKind.CHANNEL, message_id="card:x")
    )
    assert result == ActionResult(card=None, message=said)


async def test_a_refresh_from_anywhere_but_the_cards_own_message_is_refused(
    scenario: Scenario,
) -> None:
    handoff = await requested(scenario, "2311230040000006")
    other = await requested(scenario, "2311230040000007")
    elsewhere: list[Callable[[Person], Request]] = [
        # Another handoff's card, a personal chat without a message, a version never shown.
        lambda p: on_card(scenario, p, other),
        lambda p: scenario.request(p),
    ]
    for request_of in elsewhere:
        for person in (ANA, LEAD, STRANGER):
            result = await scenario.use_cases.card_actions.refresh(
                refresh_of(handoff), request_of(person)
            )
            assert result == ActionResult(card=None, message=messages.forged_card())
    future = refresh_of(handoff, handoff_id=handoff.id, version=handoff.version + 1)
    result = await scenario.use_cases.card_actions.refresh(
        future, on_card(scenario, STRANGER, handoff)
    )
    assert result == ActionResult(card=None, message=messages.forged_card())


# The states a handoff's card can show, and how ANA's handoff (naming BO) gets there.
TO_STATE: dict[HandoffState, list[Command]] = {
    HandoffState.REQUESTED: [],
    HandoffState.MORE_INFO_NEEDED: [RequestMoreInfo(actor=CAROL, question="Which logs?")],
    HandoffState.BACK_TO_QUEUE: [SendBackToQueue(actor=ANA, reason="Nobody this week")],
    HandoffState.ESCALATED: [EscalateToSme(actor=CAROL)],
    HandoffState.ACCEPTED: [Accept(actor=BO)],
}


@pytest.mark.parametrize("state", list(TO_STATE))
async def test_every_button_a_copy_shows_is_one_its_readers_click_is_allowed(
    scenario: Scenario, state: HandoffState
) -> None:
    """Each reader's copy in each state, and each of its buttons pressed by that reader on a
    handoff in the same state: the click does its work (or asks who takes it instead)."""
    numbers = iter(range(100))
    prefix = 2311230040100 + list(TO_STATE).index(state) * 1000

    async def in_state() -> Handoff:
        handoff = await requested(scenario, str(prefix + next(numbers)))
        for command in TO_STATE[state]:
            outcome = await scenario.use_cases.service.act(handoff.id, command)
            assert outcome.changed, outcome.notice
            handoff = outcome.handoff
        assert handoff.state is state
        return handoff

    for person in (ANA, BO, LEAD, CAROL):
        copy = await refresh(scenario, await in_state(), person)
        assert copy.card is not None
        for verb in set(buttons(copy.card)) - {REFRESH_VERB}:
            handoff = await in_state()
            data = {"handoff_id": handoff.id, "version": handoff.version, **INPUTS.get(verb, {})}
            click = read_invoke({"action": {"verb": verb, "data": data}})
            assert isinstance(click, CardAction)
            done = await scenario.use_cases.card_actions.run(
                click, on_card(scenario, person, handoff)
            )
            flagged = verb == Verb.LONG_RUNNING and "is marked long-running" in done.message
            assert done.done or done.asks or flagged, f"{person.name} pressing {verb}: {done}"
