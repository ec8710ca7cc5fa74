"""HandoffService on a real SQLite file: each change is written with its event and the outbox
messages that carry it to Teams; a refused one (a move the state does not allow, an
out-of-date card, a repeated click, a wrong person) says why and leaves every table as it was."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from handoff import effects
from handoff.errors import ConcurrencyConflict, IllegalTransition
from handoff.flowchart import PathStep
from handoff.models import Handoff, HandoffState, Severity
from handoff.ports import DuplicateOpenHandoff
from handoff.service import HandoffService
from handoff.state_machine import (
    Accept,
    Cancel,
    Command,
    EscalateToSme,
    ProvideInfo,
    RequestMoreInfo,
)
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock
from harness import records
from harness.handoff_flow import CASE, RECEIVER, person
from harness.ids import DEFAULT_USER, fake_user
from harness.records import PLACEHOLDER_OUTPUTS

REQUESTER = person(DEFAULT_USER)
TAKER = person(RECEIVER)
SECOND = person(fake_user("Second Clicker"))
US_SME = person(fake_user("US Handoff SME"))
EMEA_SME = person(fake_user("EMEA Handoff SME"))
STAY = timedelta(hours=1)
OUTPUTS = PLACEHOLDER_OUTPUTS.model_copy(
    update={"path": (PathStep.CRITICAL.value, PathStep.MEETING.value)}
)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'handoff.db'}"


@pytest.fixture
async def store(url: str, clock: FakeClock) -> AsyncIterator[SqlStore]:
    opened = await open_store(url, clock)
    yield opened
    await opened.close()


@pytest.fixture
def service(store: SqlStore, clock: FakeClock) -> HandoffService:
    return HandoffService(store, clock, stay_interval=STAY, smes={"US": (US_SME,), "EMEA": ()})


def _dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if not name.startswith("sqlite_")
        ]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }


async def everything(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the SQLite file, as written."""
    return await asyncio.to_thread(_dump, url)


async def outbox(store: SqlStore) -> dict[str, dict[str, Any]]:
    """The outbox by dedupe key: kind, lane and payload."""
    rows = await store.database.fetch_all("SELECT dedupe_key, kind, lane, payload FROM outbox")
    return {str(r["dedupe_key"]): dict(r) for r in rows}


async def requested(
    service: HandoffService, *, number: str = CASE, severity: Severity = Severity.A
) -> Handoff:
    answers = records.answers(number, "EMEA", "US", severity=severity)
    return await service.request(answers, OUTPUTS, REQUESTER, conversation_id="a:requester")


async def test_a_request_is_stored_with_its_event_and_its_card(
    service: HandoffService, store: SqlStore, clock: FakeClock
) -> None:
    handoff = await requested(service)
    assert await store.get(handoff.id) == handoff
    assert (handoff.state, handoff.version, handoff.created_at) == (
        HandoffState.REQUESTED,
        1,
        clock.now(),
    )
    [event] = await store.history(handoff.id)
    assert (event.kind, event.actor, event.conversation_id) == (
        "requested",
        REQUESTER,
        "a:requester",
    )
    assert event.data == {"path": list(OUTPUTS.path)}, "the flow chart's path is in the audit"
    kinds = {row["kind"] for row in (await outbox(store)).values()}
    # A critical case also starts the reminders to stay with it until someone takes it.
    assert kinds == {effects.OutboxKind.POST_CARD, effects.OutboxKind.STAY_REMINDER}


async def test_a_second_open_handoff_of_a_case_is_refused_and_writes_nothing(
    service: HandoffService, url: str
) -> None:
    await requested(service)
    before = await everything(url)
    with pytest.raises(DuplicateOpenHandoff):
        await requested(service)
    assert await everything(url) == before


async def test_a_new_handoff_of_the_case_starts_at_the_technical_level_it_reached(
    service: HandoffService,
) -> None:
    first = await requested(service)
    await service.record_technical_escalation(first.id, "SME", TAKER)
    done = await service.act(first.id, Cancel(actor=REQUESTER))
    assert done.changed
    second = await requested(service)
    assert second.technical_level == "SME"


async def test_accept_makes_the_clicker_owner_and_tells_the_requester(
    service: HandoffService, store: SqlStore, clock: FakeClock
) -> None:
    handoff = await requested(service)
    clock.advance(timedelta(minutes=7))
    outcome = await service.act(handoff.id, Accept(actor=TAKER), handoff.version, "19:channel")
    assert outcome.changed and outcome.notice is None and not outcome.repeated
    stored = await store.get(handoff.id)
    assert stored == outcome.handoff
    assert (stored.state, stored.owner, stored.version) == (HandoffState.ACCEPTED, TAKER, 2)
    assert stored.state_since == clock.now()
    assert [e.kind for e in await store.history(handoff.id)] == ["requested", "accept"]
    told = (await outbox(store))[f"notify:{handoff.id}:v2:{REQUESTER.id}"]
    assert f"{TAKER.name} accepted your handoff of case {CASE}" in told["payload"]


def _cancel_by_taker() -> Command:
    return Cancel(actor=TAKER)


def _accept_by_requester() -> Command:
    return Accept(actor=REQUESTER)


def _more_info() -> Command:
    return RequestMoreInfo(actor=SECOND, question="Which cluster?")


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (_accept_by_requester, "You requested this handoff, so someone else has to accept it."),
        (_cancel_by_taker, f"Only {REQUESTER.name}, who requested this handoff, can do that."),
    ],
    ids=["own handoff", "not the requester"],
)
async def test_a_person_the_process_does_not_allow_is_told_why_and_nothing_is_written(
    service: HandoffService, url: str, command: Callable[[], Command], said: str
) -> None:
    handoff = await requested(service)
    before = await everything(url)
    outcome = await service.act(handoff.id, command(), handoff.version)
    assert (outcome.changed, outcome.notice) == (False, said)
    assert outcome.handoff == handoff
    assert await everything(url) == before


async def test_a_move_the_state_does_not_allow_is_refused_and_writes_nothing(
    service: HandoffService, url: str
) -> None:
    handoff = await requested(service)
    accepted = await service.act(handoff.id, Accept(actor=TAKER))
    before = await everything(url)
    outcome = await service.act(handoff.id, _more_info(), accepted.handoff.version)
    assert not outcome.changed
    assert outcome.notice == (
        f"Case {CASE} is accepted; it cannot be asked for more information on now."
    )
    assert await everything(url) == before


async def test_a_click_on_an_out_of_date_card_says_who_acted_first_and_writes_nothing(
    service: HandoffService, url: str
) -> None:
    handoff = await requested(service)
    await service.act(handoff.id, Accept(actor=TAKER), handoff.version)
    before = await everything(url)
    late = await service.act(handoff.id, Accept(actor=SECOND), handoff.version)
    assert not late.changed
    assert late.notice == (
        f"Someone acted on this handoff first: it is accepted by {TAKER.name} now. "
        "This is the current card."
    )
    assert late.handoff.owner == TAKER, "the clicker is shown the current card"
    assert await everything(url) == before


async def test_two_people_accepting_at_once_give_one_owner(
    service: HandoffService, store: SqlStore
) -> None:
    handoff = await requested(service)
    first, second = await asyncio.gather(
        service.act(handoff.id, Accept(actor=TAKER), handoff.version),
        service.act(handoff.id, Accept(actor=SECOND), handoff.version),
    )
    [winner] = [o for o in (first, second) if o.changed]
    [loser] = [o for o in (first, second) if not o.changed]
    assert loser.notice, "the one who lost the race is told"
    stored = await store.get(handoff.id)
    assert stored.owner == winner.handoff.owner == loser.handoff.owner
    assert [e.kind for e in await store.history(handoff.id)].count("accept") == 1


async def test_a_repeated_click_does_nothing_again(service: HandoffService, url: str) -> None:
    handoff = await requested(service)
    asked = await service.act(handoff.id, _more_info(), claim="click:1")
    assert asked.changed
    before = await everything(url)
    again = await service.act(handoff.id, Accept(actor=TAKER), claim="click:1")
    assert (again.changed, again.repeated) == (False, True)
    assert again.handoff == asked.handoff
    assert await everything(url) == before


async def test_a_question_and_its_answer_go_into_the_notes(
    service: HandoffService, store: SqlStore
) -> None:
    handoff = await requested(service)
    asked = await service.act(handoff.id, _more_info())
    assert asked.handoff.open_question == "Which cluster?"
    answered = await service.act(handoff.id, ProvideInfo(actor=REQUESTER, answer="Production"))
    stored = await store.get(handoff.id)
    assert stored == answered.handoff
    assert stored.state is HandoffState.REQUESTED
    assert stored.open_question is None
    assert stored.notes.questions_answered == ("Q: Which cluster? A: Production",)


async def test_an_escalation_tells_the_smes_of_the_receiving_region(
    service: HandoffService, store: SqlStore
) -> None:
    handoff = await requested(service)
    outcome = await service.act(handoff.id, EscalateToSme(actor=TAKER))
    assert outcome.handoff.state is HandoffState.ESCALATED
    keys = set(await outbox(store))
    version = outcome.handoff.version
    assert f"notify:{handoff.id}:v{version}:{US_SME.id}" in keys
    assert f"notify:{handoff.id}:v{version}:{EMEA_SME.id}" not in keys, "EMEA lists none"


async def test_a_revision_replaces_the_answers_and_keeps_the_requester_and_state(
    service: HandoffService, store: SqlStore, clock: FakeClock
) -> None:
    handoff = await requested(service)
    clock.advance(timedelta(minutes=3))
    changed = records.answers(CASE, "EMEA", "APAC", severity=Severity.B)
    revised = await service.revise(handoff.id, 1, changed, OUTPUTS, TAKER)
    stored = await store.get(handoff.id)
    assert stored == revised
    assert (stored.target_region, stored.case.severity) == ("APAC", Severity.B)
    assert (stored.requester, stored.state, stored.version) == (REQUESTER, handoff.state, 2)
    assert stored.state_since == handoff.state_since, "a revision does not move the state"
    [_, event] = await store.history(handoff.id)
    assert (event.kind, event.actor, event.from_state, event.to_state) == (
        "revised",
        TAKER,
        HandoffState.REQUESTED,
        HandoffState.REQUESTED,
    )


@pytest.mark.parametrize("why", ["another case", "closed", "out of date"])
async def test_a_revision_that_cannot_apply_is_refused_and_writes_nothing(
    service: HandoffService, url: str, why: str
) -> None:
    handoff = await requested(service)
    answers, version = records.answers(CASE, "EMEA", "APAC"), handoff.version
    if why == "another case":
        answers = records.answers("2311230040009999", "EMEA", "APAC")
    elif why == "closed":
        version = (await service.act(handoff.id, Cancel(actor=REQUESTER))).handoff.version
    else:
        await service.record_technical_escalation(handoff.id, "L2", TAKER)
    before = await everything(url)
    refused = IllegalTransition if why != "out of date" else ConcurrencyConflict
    with pytest.raises(refused) as error:
        await service.revise(handoff.id, version, answers, OUTPUTS, REQUESTER)
    assert CASE in str(error.value)
    assert await everything(url) == before


async def test_a_case_that_cannot_be_long_running_is_refused_saying_why(
    service: HandoffService, url: str
) -> None:
    handoff = await requested(service, severity=Severity.C)
    before = await everything(url)
    with pytest.raises(IllegalTransition, match="only Sev A or B cases the customer works 24x7"):
        await service.flag_long_running(handoff.id, TAKER, "Two offices")
    assert await everything(url) == before


async def test_a_flag_on_an_out_of_date_card_is_a_conflict_and_writes_nothing(
    service: HandoffService, url: str
) -> None:
    handoff = await requested(service)
    await service.record_technical_escalation(handoff.id, "L2", TAKER)
    before = await everything(url)
    with pytest.raises(ConcurrencyConflict):
        await service.flag_long_running(handoff.id, TAKER, "Two offices", seen_version=1)
    assert await everything(url) == before
    flagged = await service.flag_long_running(handoff.id, TAKER, "Two offices", seen_version=2)
    assert flagged.long_running == "flagged: Two offices"
