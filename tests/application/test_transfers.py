"""The handoff card's buttons and the requester's typed answer, as use cases over a real SQLite
file. Every click comes from the card's own button data (read the way the edge reads an
invoke); forged data changes nothing, a repeated click changes nothing and gets the current
card, and a refusal shows the card only to a click made on the card itself."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from application import messages
from application.request import Request
from application.transfers import ActionResult, CardAction, read_invoke
from cards.transfer_card import handoff_card
from handoff.access import NOT_IN_TEAM, ONLY_REQUESTER_OR_LEAD, Viewer
from handoff.models import Handoff, HandoffState, Person, Severity
from handoff.ports import CardRef, ConversationKind

from harness import records
from harness.ids import DEFAULT_CHANNEL_ID
from harness.scenario import (
    ANA,
    BO,
    STRANGER,
    Scenario,
    buttons,
    card_words,
    open_scenario,
)

CASE = "2311230040001234"
OTHER_CASE = "2311230040005678"
CARD_MESSAGE = "1:card-of-1234"
OTHER_CARD_MESSAGE = "1:card-of-5678"


@pytest.fixture
async def scenario(tmp_path: Path) -> AsyncIterator[Scenario]:
    async for opened in open_scenario(tmp_path):
        opened.join(BO)
        yield opened


async def requested(
    scenario: Scenario,
    number: str = CASE,
    *,
    severity: Severity = Severity.A,
    message_id: str = CARD_MESSAGE,
    engineer: Person | None = None,
) -> Handoff:
    """ANA hands `number` from EMEA to US; its card is posted in the Case Transfer channel."""
    answers = records.answers(number, "EMEA", "US", severity=severity)
    if engineer is not None:
        answers = replace(
            answers, target_engineer=engineer.id, target_engineer_name=engineer.name or ""
        )
    handoff = await scenario.use_cases.service.request(answers, records.PLACEHOLDER_OUTPUTS, ANA)
    await scenario.store.set_card(
        handoff.id, CardRef(conversation_id=DEFAULT_CHANNEL_ID, activity_id=message_id)
    )
    return handoff


def in_channel(scenario: Scenario, actor: Person, message_id: str | None = CARD_MESSAGE) -> Request:
    return scenario.request(actor, kind=ConversationKind.CHANNEL, message_id=message_id)


def personal(scenario: Scenario, actor: Person, message_id: str | None = None) -> Request:
    return scenario.request(actor, message_id=message_id)


def team_card(handoff: Handoff, viewer: Viewer = Viewer.TEAM) -> dict[str, Any]:
    return handoff_card(handoff, viewer=viewer)


def press(card: dict[str, Any], verb: str, **inputs: Any) -> CardAction:
    """The invoke Teams sends for the card's `verb` button, with what was typed in its box."""
    data = buttons(card)[verb]
    action = read_invoke({"action": {"verb": verb, "data": {**data, **inputs}}})
    assert isinstance(action, CardAction), action
    return action


async def run(scenario: Scenario, action: CardAction, request: Request) -> ActionResult:
    return await scenario.use_cases.card_actions.run(action, request)


async def stored(scenario: Scenario, handoff: Handoff) -> Handoff:
    return await scenario.store.get(handoff.id)


async def steps(scenario: Scenario, handoff: Handoff) -> list[str]:
    return [event.kind for event in await scenario.store.history(handoff.id)]


# -- Each button --------------------------------------------------------------------------


async def test_a_member_accepts_from_the_channel_card(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    result = await run(scenario, press(team_card(handoff), "accept"), in_channel(scenario, BO))
    assert result.done and not result.repeated
    assert result.message == f"Done: case {CASE} is accepted now."
    assert result.card is not None and "Accepted by Bo Receiver" in card_words(result.card)
    now = await stored(scenario, handoff)
    assert now.state is HandoffState.ACCEPTED and now.owner is not None and now.owner.id == BO.id
    # The accepted card offers nothing more to press.
    assert "accept" not in buttons(result.card)


async def test_more_info_asks_the_requester_who_answers_on_her_card(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    empty = await run(
        scenario, press(team_card(handoff), "more_info", question="  "), in_channel(scenario, BO)
    )
    assert empty.message == "Type your question in the box first, then press the button."
    assert (await stored(scenario, handoff)).state is HandoffState.REQUESTED

    asked = await run(
        scenario,
        press(team_card(handoff), "more_info", question="Which cluster region?"),
        in_channel(scenario, BO),
    )
    assert asked.done and asked.card is not None
    assert "Which cluster region?" in card_words(asked.card)
    waiting = await stored(scenario, handoff)
    assert waiting.state is HandoffState.MORE_INFO_NEEDED

    # ANA answers from her own copy: the answer goes into the notes, the question is closed.
    answer = CardAction(
        "provide_info", handoff.id, waiting.version, {"answer": "West Europe, prod cluster"}
    )
    answered = await run(scenario, answer, personal(scenario, ANA))
    assert answered.done
    now = await stored(scenario, handoff)
    assert now.state is HandoffState.REQUESTED and now.open_question is None
    assert now.notes.questions_answered == (
        "Q: Which cluster region? A: West Europe, prod cluster",
    )


async def test_only_the_requester_answers_the_question(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    await run(
        scenario,
        press(team_card(handoff), "more_info", question="Which cluster region?"),
        in_channel(scenario, BO),
    )
    waiting = await stored(scenario, handoff)
    answer = CardAction("provide_info", handoff.id, waiting.version, {"answer": "I guess EU"})
    refused = await run(scenario, answer, personal(scenario, BO))
    assert refused.message == "Only Ana Lopez, who requested this handoff, can do that."
    assert (await stored(scenario, handoff)).state is HandoffState.MORE_INFO_NEEDED


async def test_back_to_queue_is_the_requesters_and_needs_a_reason(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    by_member = await run(
        scenario,
        CardAction("back_to_queue", handoff.id, handoff.version, {"reason": "not mine"}),
        in_channel(scenario, BO),
    )
    assert by_member.message == ONLY_REQUESTER_OR_LEAD
    own_card = team_card(handoff, Viewer.REQUESTER)
    no_reason = await run(scenario, press(own_card, "back_to_queue"), personal(scenario, ANA))
    assert no_reason.message == "Say why the case goes back to the queue, then press the button."
    assert (await stored(scenario, handoff)).state is HandoffState.REQUESTED

    sent = await run(
        scenario,
        press(own_card, "back_to_queue", reason="Nobody in US knows HDInsight"),
        personal(scenario, ANA),
    )
    assert sent.done and sent.message == f"Done: case {CASE} is back to queue now."
    assert (await stored(scenario, handoff)).state is HandoffState.BACK_TO_QUEUE


async def test_cancel_is_the_requesters_alone(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    refused = await run(
        scenario, CardAction("cancel", handoff.id, handoff.version, {}), in_channel(scenario, BO)
    )
    assert refused.message == "Only Ana Lopez, who requested this handoff, can do that."
    assert (await stored(scenario, handoff)).state is HandoffState.REQUESTED
    done = await run(
        scenario, press(team_card(handoff, Viewer.REQUESTER), "cancel"), personal(scenario, ANA)
    )
    assert done.done and done.message == f"Done: case {CASE} is cancelled now."
    assert (await stored(scenario, handoff)).state is HandoffState.CANCELLED


async def test_a_member_escalates_to_the_sme(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    result = await run(scenario, press(team_card(handoff), "escalate"), in_channel(scenario, BO))
    assert result.done and result.message == f"Done: case {CASE} is escalated now."
    assert (await stored(scenario, handoff)).state is HandoffState.ESCALATED


async def test_a_member_flags_the_case_long_running_with_a_reason(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    no_reason = await run(
        scenario, press(team_card(handoff), "long_running"), in_channel(scenario, BO)
    )
    assert no_reason.message == "Say why the case is long-running first."
    assert (await stored(scenario, handoff)).long_running is None

    flagged = await run(
        scenario,
        press(team_card(handoff), "long_running", why="customer works in two zones"),
        in_channel(scenario, BO),
    )
    assert flagged.message == f"Case {CASE} is marked long-running."
    assert flagged.card is not None
    assert "Long-running case: flagged: customer works in two zones" in card_words(flagged.card)
    assert "long_running" not in buttons(flagged.card)
    now = await stored(scenario, handoff)
    assert now.long_running == "flagged: customer works in two zones"
    assert now.state is HandoffState.REQUESTED
    assert await steps(scenario, handoff) == ["requested", "long_running"]


async def test_a_repeated_long_running_click_flags_once(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    action = press(team_card(handoff), "long_running", why="two zones")
    await run(scenario, action, in_channel(scenario, BO))
    again = await run(scenario, action, in_channel(scenario, BO))
    assert again.repeated and again.message == ""
    assert again.card is not None and "Long-running case" in card_words(again.card)
    assert await steps(scenario, handoff) == ["requested", "long_running"]


# -- Forged card data ---------------------------------------------------------------------


async def test_an_unknown_handoff_is_said_to_be_gone(scenario: Scenario) -> None:
    await requested(scenario)
    result = await run(
        scenario, CardAction("accept", "no-such-id", 1, {}), in_channel(scenario, BO)
    )
    assert result == ActionResult(card=None, message="That handoff no longer exists.")


@pytest.mark.parametrize("version", [0, 2, 99])
async def test_a_version_the_handoff_never_had_is_a_damaged_card(
    scenario: Scenario, version: int
) -> None:
    handoff = await requested(scenario)
    result = await run(
        scenario, CardAction("accept", handoff.id, version, {}), in_channel(scenario, BO)
    )
    assert result == ActionResult(card=None, message=messages.forged_card())
    assert await stored(scenario, handoff) == handoff


async def test_a_button_not_on_the_card_is_refused(scenario: Scenario) -> None:
    # A Sev C case cannot be long-running: its card has no such button.
    handoff = await requested(scenario, severity=Severity.C)
    assert "long_running" not in buttons(team_card(handoff))
    forged = CardAction("long_running", handoff.id, handoff.version, {"why": "I say so"})
    result = await run(scenario, forged, in_channel(scenario, BO))
    assert result == ActionResult(card=None, message=messages.button_not_on_card())
    assert (await stored(scenario, handoff)).long_running is None


async def test_a_button_of_an_accepted_card_is_refused(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    await run(scenario, press(team_card(handoff), "accept"), in_channel(scenario, BO))
    accepted = await stored(scenario, handoff)
    forged = CardAction("cancel", handoff.id, accepted.version, {})
    result = await run(scenario, forged, personal(scenario, ANA))
    assert result.message == messages.button_not_on_card()
    assert (await stored(scenario, handoff)).state is HandoffState.ACCEPTED


async def test_another_cards_message_id_is_a_damaged_card(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    await requested(scenario, OTHER_CASE, message_id=OTHER_CARD_MESSAGE)
    # This handoff's data, sent from the other handoff's card.
    result = await run(
        scenario,
        press(team_card(handoff), "accept"),
        in_channel(scenario, BO, message_id=OTHER_CARD_MESSAGE),
    )
    assert result == ActionResult(card=None, message=messages.forged_card())
    assert (await stored(scenario, handoff)).state is HandoffState.REQUESTED


async def test_an_out_of_date_card_says_who_acted_first(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    old_card = team_card(handoff)
    await run(scenario, press(old_card, "escalate"), in_channel(scenario, BO))
    late = await run(scenario, press(old_card, "accept"), in_channel(scenario, BO, "1:other-bo"))
    assert not late.done
    assert late.message.startswith("Someone acted on this handoff first: it is escalated now.")
    assert (await stored(scenario, handoff)).state is HandoffState.ESCALATED


# -- Repeated clicks, strangers, and taking someone else's handoff ------------------------


async def test_a_repeated_click_gets_the_current_card_and_changes_nothing(
    scenario: Scenario,
) -> None:
    handoff = await requested(scenario)
    accept = press(team_card(handoff), "accept")
    first = await run(scenario, accept, in_channel(scenario, BO))
    again = await run(scenario, accept, in_channel(scenario, BO))
    assert first.done
    assert again.repeated and not again.done and again.message == ""
    assert again.card is not None and "Accepted by Bo Receiver" in card_words(again.card)
    assert await steps(scenario, handoff) == ["requested", "accept"]
    assert (await stored(scenario, handoff)).version == handoff.version + 1


async def test_a_strangers_click_on_the_card_shows_the_card_with_the_refusal(
    scenario: Scenario,
) -> None:
    handoff = await requested(scenario)
    result = await run(
        scenario, press(team_card(handoff), "accept"), in_channel(scenario, STRANGER)
    )
    assert result.message == NOT_IN_TEAM and not result.done
    assert result.card is not None
    assert NOT_IN_TEAM in card_words(result.card) and CASE in card_words(result.card)
    assert await stored(scenario, handoff) == handoff


@pytest.mark.parametrize("message_id", [None, "1:a-message-that-is-no-card"])
async def test_a_strangers_click_made_up_elsewhere_gets_words_only(
    scenario: Scenario, message_id: str | None
) -> None:
    handoff = await requested(scenario)
    result = await run(
        scenario, press(team_card(handoff), "accept"), personal(scenario, STRANGER, message_id)
    )
    assert result == ActionResult(card=None, message=NOT_IN_TEAM)
    assert await stored(scenario, handoff) == handoff


async def test_taking_a_handoff_meant_for_someone_else_asks_first(scenario: Scenario) -> None:
    named = Person(id="29:cy", name="Cy Named", aad_object_id="aad-cy")
    handoff = await requested(scenario, engineer=named)
    asked = await run(scenario, press(team_card(handoff), "accept"), in_channel(scenario, BO))
    assert asked.asks and not asked.done
    assert asked.message == messages.take_instead(CASE, "Cy Named")
    assert asked.card is not None
    assert "Take it instead of Cy Named" in card_words(asked.card)
    assert (await stored(scenario, handoff)).state is HandoffState.REQUESTED

    taken = await run(scenario, press(asked.card, "accept"), in_channel(scenario, BO))
    assert taken.done
    now = await stored(scenario, handoff)
    assert now.state is HandoffState.ACCEPTED and now.owner is not None and now.owner.id == BO.id
    [_, accept] = await scenario.store.history(handoff.id)
    assert accept.data == {"instead_of": "Cy Named"}


async def test_an_engineer_of_another_region_is_asked_before_taking_it(
    scenario: Scenario,
) -> None:
    handoff = await requested(scenario)
    await scenario.command("settings", scenario.request(BO, "region", "APAC"))
    asked = await run(scenario, press(team_card(handoff), "accept"), in_channel(scenario, BO))
    assert asked.asks and asked.message == messages.take_instead(CASE, "the US team")
    assert (await stored(scenario, handoff)).state is HandoffState.REQUESTED


async def test_the_named_engineer_takes_it_without_being_asked(scenario: Scenario) -> None:
    handoff = await requested(scenario, engineer=BO)
    result = await run(scenario, press(team_card(handoff), "accept"), in_channel(scenario, BO))
    assert result.done and not result.asks


# -- A typed answer -----------------------------------------------------------------------


async def ask(scenario: Scenario, handoff: Handoff, question: str) -> None:
    await run(
        scenario,
        CardAction("more_info", handoff.id, handoff.version, {"question": question}),
        in_channel(scenario, BO, message_id=None),
    )


async def test_the_requesters_typed_words_answer_her_waiting_question(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    await ask(scenario, handoff, "Which cluster region?")
    reply = await scenario.use_cases.typed_answers.answer(
        personal(scenario, ANA), "  West Europe  "
    )
    assert reply == [messages.answer_recorded(CASE, "Which cluster region?")]
    now = await stored(scenario, handoff)
    assert now.state is HandoffState.REQUESTED
    assert now.notes.questions_answered == ("Q: Which cluster region? A: West Europe",)


async def test_two_waiting_questions_are_not_guessed_between(scenario: Scenario) -> None:
    first = await requested(scenario)
    second = await requested(scenario, OTHER_CASE, message_id=OTHER_CARD_MESSAGE)
    await ask(scenario, first, "Which cluster region?")
    await ask(scenario, second, "Which subscription?")
    reply = await scenario.use_cases.typed_answers.answer(personal(scenario, ANA), "West Europe")
    assert reply is not None and len(reply) == 1
    assert CASE in str(reply[0]) and OTHER_CASE in str(reply[0])
    assert "each with the box on its question's card" in str(reply[0])
    for handoff in (first, second):
        assert (await stored(scenario, handoff)).state is HandoffState.MORE_INFO_NEEDED


async def test_words_with_no_waiting_question_are_not_an_answer(scenario: Scenario) -> None:
    handoff = await requested(scenario)
    answers = scenario.use_cases.typed_answers
    assert await answers.answer(personal(scenario, ANA), "hello there") is None
    await ask(scenario, handoff, "Which cluster region?")
    # Someone else's words, or words in a channel, answer nothing.
    assert await answers.answer(personal(scenario, BO), "West Europe") is None
    assert await answers.answer(in_channel(scenario, ANA, None), "West Europe") is None
    assert (await stored(scenario, handoff)).state is HandoffState.MORE_INFO_NEEDED
