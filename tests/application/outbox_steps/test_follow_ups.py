"""EffectHandlers (application/outbox_steps/follow_ups.py): the Case Transfer card posted and
updated in place, people told in their personal chat, and R-STAY's reminders; each handler given
the item the handoff service enqueued in a real SQLite file, sending through the real
OutboxSender to the fake Bot Connector."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.outbox_steps.follow_ups import MAX_STAY_REMINDERS, EffectHandlers, StayPolicy
from handoff import effects
from handoff.models import Handoff, HandoffState, Person, Severity
from handoff.service import HandoffService
from handoff.state_machine import Accept, RequestMoreInfo
from outbox.failures import PermanentFailure, SendFailed

from conftest import FakeClock
from harness import records
from harness.fake_connector import FakeConnector
from harness.ids import DEFAULT_CHANNEL_ID
from harness.outbox_steps import CARD, StepWorld, all_text, personal_chat_id, step_world

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CASE = "2311230040001234"
ANA = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
BO = Person(id="29:bo", name="Bo Receiver", aad_object_id="aad-bo")
SME = Person(id="aad-sme-us", name="Uma US-SME", aad_object_id="aad-sme-us")
STAY = StayPolicy(interval=timedelta(hours=1), tell_smes_after=timedelta(hours=4))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def world(
    tmp_path: Path, clock: FakeClock, fake_connector: FakeConnector
) -> AsyncIterator[StepWorld]:
    async with step_world(tmp_path, clock, fake_connector) as opened:
        yield opened


def handlers(
    world: StepWorld, channel: str = DEFAULT_CHANNEL_ID, smes: tuple[Person, ...] = (SME,)
) -> EffectHandlers:
    return EffectHandlers(
        world.store,
        world.sender,
        world.clock,
        configured_channel=channel,
        stay=STAY,
        smes={"US": smes} if smes else {},
    )


def service(world: StepWorld) -> HandoffService:
    return HandoffService(world.store, world.clock, stay_interval=STAY.interval)


async def requested(world: StepWorld, severity: Severity = Severity.A) -> Handoff:
    answers = records.answers(CASE, "EMEA", "US", severity=severity, is_24x7=True)
    return await service(world).request(answers, records.PLACEHOLDER_OUTPUTS, ANA)


async def test_the_card_goes_to_the_case_transfer_channel_and_is_remembered(
    world: StepWorld,
) -> None:
    channel = await world.channel()
    handoff = await requested(world)
    item = await world.item(f"post:{handoff.id}")

    await world.run(handlers(world).post_card, item)

    [post] = world.connector.activity_records(channel)
    assert post.method == "POST"
    assert post.path.startswith(f"/v3/conversations/{channel}/activities")
    [activity] = world.connector.activities(channel)
    assert activity["attachments"][0]["contentType"] == CARD
    assert CASE in activity["summary"], "the notification shows which case"
    assert CASE in all_text(activity["attachments"][0]["content"])
    card = await world.store.card_of(handoff.id)
    assert card is not None
    assert (card.conversation_id, card.activity_id) == (channel, post.response["id"])


async def test_a_post_card_run_again_after_it_posted_posts_nothing_more(world: StepWorld) -> None:
    await world.channel()
    handoff = await requested(world)
    item = await world.item(f"post:{handoff.id}")
    await world.run(handlers(world).post_card, item)
    await world.run(handlers(world).post_card, await world.item(item.dedupe_key))
    assert len(world.connector.requests) == 1


def leads(count: int) -> list[Person]:
    """Team Leaders as the process file names them: by directory id."""
    return [Person(id=f"aad-lead-{n:02d}", name=f"Lead {n:02d}") for n in range(count)]


async def test_the_card_names_whose_teams_refresh_it_by_their_teams_ids(
    world: StepWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """The requester and the owner by the ids their clicks came with; the named engineer and
    the leads (known by directory id) by the chat they installed the bot in; whoever the bot
    has no Teams id for (named by e-mail, never chatted with it) is left out."""
    channel = await world.channel()
    named = Person(id="aad-bo", name="Bo Receiver")
    answers = replace(
        records.answers(CASE, "EMEA", "US"), target_engineer=named.id, target_engineer_name="Bo"
    )
    handoff = await service(world).request(answers, records.PLACEHOLDER_OUTPUTS, ANA)
    await world.personal_chat(BO)
    team_leads = leads(3)
    for lead in team_leads[:2]:
        await world.personal_chat(Person(id=f"29:{lead.id}", name=lead.name, aad_object_id=lead.id))
    steps = EffectHandlers(
        world.store,
        world.sender,
        world.clock,
        configured_channel=channel,
        stay=STAY,
        smes={},
        leads=team_leads,
    )
    await world.run(steps.post_card, await world.item(f"post:{handoff.id}"))
    [card] = world.cards(channel)
    assert card["refresh"]["userIds"] == [ANA.id, BO.id, "29:aad-lead-00", "29:aad-lead-01"]

    carol = Person(id="29:carol", name="Carol")
    taken = await service(world).act(handoff.id, Accept(actor=carol), handoff.version)
    await world.run(
        steps.update_card, await world.item(f"card:{handoff.id}:v{taken.handoff.version}")
    )
    updated = world.cards(channel)[-1]
    assert updated["refresh"]["userIds"] == [
        ANA.id,
        carol.id,
        BO.id,
        "29:aad-lead-00",
        "29:aad-lead-01",
    ]
    assert updated["refresh"]["action"]["data"]["version"] == taken.handoff.version
    assert not [r for r in caplog.records if r.getMessage().startswith("card refresh limited")]

    # A receiver named by e-mail: no Teams id to give Teams.
    by_mail = replace(
        answers,
        case=answers.case.model_copy(update={"number": "2311230040009999"}),
        target_engineer="bo@contoso.example",
    )
    other = await service(world).request(by_mail, records.PLACEHOLDER_OUTPUTS, ANA)
    await world.run(steps.post_card, await world.item(f"post:{other.id}"))
    assert world.cards(channel)[-1]["refresh"]["userIds"][:2] == [ANA.id, "29:aad-lead-00"]


async def test_past_sixty_people_the_last_leads_are_left_out_and_logged(
    world: StepWorld, caplog: pytest.LogCaptureFixture
) -> None:
    channel = await world.channel()
    handoff = await requested(world)
    team_leads = leads(70)
    for lead in team_leads:
        await world.personal_chat(Person(id=f"29:{lead.id}", name=lead.name, aad_object_id=lead.id))
    steps = EffectHandlers(
        world.store,
        world.sender,
        world.clock,
        configured_channel=channel,
        stay=STAY,
        smes={},
        leads=team_leads,
    )
    await world.run(steps.post_card, await world.item(f"post:{handoff.id}"))
    [card] = world.cards(channel)
    named = card["refresh"]["userIds"]
    # The requester first, then the leads in the configuration's order, as many as fit.
    assert named == [ANA.id, *(f"29:aad-lead-{n:02d}" for n in range(59))]
    [warning] = [r for r in caplog.records if r.getMessage().startswith("card refresh limited")]
    assert warning.__dict__["left_out"] == [f"29:aad-lead-{n:02d}" for n in range(59, 70)]
    assert warning.__dict__["limit"] == 60


async def test_without_a_channel_the_requester_is_told_and_the_card_follows_once_set_up(
    world: StepWorld,
) -> None:
    chat = await world.personal_chat(ANA)
    handoff = await requested(world)
    item = await world.item(f"post:{handoff.id}")

    await world.run(handlers(world, channel="").post_card, item)

    [told] = world.texts(chat)
    assert f"Your handoff of case {CASE} is saved" in told
    assert "no Case Transfer channel is set up" in told and f"**status {CASE}**" in told
    assert world.cards() == [] and await world.store.card_of(handoff.id) is None
    assert (await world.store.get(handoff.id)).state is HandoffState.REQUESTED

    # `setup` binds the channel and enqueues the card again, keyed on the channel.
    channel = await world.channel()
    again = await world.enqueued(effects.post_card(handoff, world.clock.now(), channel))
    await world.run(handlers(world, channel=channel).post_card, again)
    assert CASE in all_text(world.cards(channel))
    assert await world.store.card_of(handoff.id) is not None


async def test_a_configured_channel_whose_team_lacks_the_bot_is_told_as_such(
    world: StepWorld,
) -> None:
    chat = await world.personal_chat(ANA)
    handoff = await requested(world)
    await world.run(handlers(world).post_card, await world.item(f"post:{handoff.id}"))
    [told] = world.texts(chat)
    assert "I am not in the team of the configured Case Transfer channel" in told


async def test_no_channel_and_no_chat_with_the_requester_fails_for_good_naming_them(
    world: StepWorld,
) -> None:
    handoff = await requested(world)
    with pytest.raises(PermanentFailure, match="no personal chat with Ana Lopez"):
        await world.run(
            handlers(world, channel="").post_card, await world.item(f"post:{handoff.id}")
        )
    assert world.connector.requests == []


async def test_an_update_of_a_card_never_posted_does_nothing(world: StepWorld) -> None:
    await world.channel()
    handoff = await requested(world)
    outcome = await service(world).act(handoff.id, Accept(actor=BO), handoff.version)
    update = await world.item(f"card:{handoff.id}:v{outcome.handoff.version}")

    await world.run(handlers(world).update_card, update)

    assert world.connector.requests == []


async def test_an_accepted_handoff_updates_its_card_in_place_and_tells_the_requester(
    world: StepWorld,
) -> None:
    channel = await world.channel()
    chat = await world.personal_chat(ANA)
    handoff = await requested(world)
    await world.run(handlers(world).post_card, await world.item(f"post:{handoff.id}"))
    posted = await world.store.card_of(handoff.id)
    assert posted is not None

    accepted = (await service(world).act(handoff.id, Accept(actor=BO), handoff.version)).handoff
    await world.run(
        handlers(world).update_card, await world.item(f"card:{handoff.id}:v{accepted.version}")
    )
    notice = await world.item(f"notify:{handoff.id}:v{accepted.version}:{ANA.id}")
    await world.run(handlers(world).notify, notice)

    _post, put = world.connector.activity_records(channel)
    assert put.method == "PUT" and put.path.endswith(f"/activities/{posted.activity_id}")
    assert "Bo Receiver" in all_text(world.cards(channel)[-1])
    assert world.texts(chat) == [
        f"Bo Receiver accepted your handoff of case {CASE} and owns it now."
    ]


async def test_a_question_reaches_the_requester_with_the_card_to_answer_it(
    world: StepWorld,
) -> None:
    chat = await world.personal_chat(ANA)
    handoff = await requested(world)
    asked = await service(world).act(
        handoff.id, RequestMoreInfo(actor=BO, question="Which cluster?"), handoff.version
    )
    notice = await world.item(f"notify:{handoff.id}:v{asked.handoff.version}:{ANA.id}")

    await world.run(handlers(world).notify, notice)

    [text, card] = world.connector.activities(chat)
    assert "Bo Receiver needs more information" in text["text"] and "Which cluster?" in text["text"]
    assert "Which cluster?" in all_text(card["attachments"][0]["content"])
    # Each send was journaled on the item: a retry would skip both.
    assert len((await world.item(notice.dedupe_key)).sent_steps) == 2


async def test_a_person_is_found_by_their_azure_ad_id_when_their_teams_id_differs(
    world: StepWorld,
) -> None:
    chat = await world.personal_chat(BO)
    configured = Person(id="aad-bo", name="Bo as configured", aad_object_id="aad-bo")
    item = await world.enqueued(effects.tell(configured, "Hello Bo.", "hello", world.clock.now()))
    await world.run(handlers(world).notify, item)
    assert world.texts(chat) == ["Hello Bo."]


async def test_telling_someone_who_never_installed_the_bot_fails_for_good_naming_them(
    world: StepWorld,
) -> None:
    item = await world.enqueued(effects.tell(BO, "Hello Bo.", "hello", world.clock.now()))
    with pytest.raises(PermanentFailure, match="no personal chat with Bo Receiver"):
        await world.run(handlers(world).notify, item)
    assert world.connector.requests == []


async def test_a_stay_reminder_stops_once_the_handoff_is_accepted(world: StepWorld) -> None:
    await world.personal_chat(ANA)
    handoff = await requested(world)
    await service(world).act(handoff.id, Accept(actor=BO), handoff.version)
    world.clock.advance(STAY.interval)

    await world.run(handlers(world).stay_reminder, await world.item(f"stay:{handoff.id}:1"))

    assert world.connector.requests == []
    assert [i.dedupe_key for i in await world.items(effects.OutboxKind.STAY_REMINDER)] == [
        f"stay:{handoff.id}:1"
    ]


async def test_a_stay_reminder_books_the_next_before_it_sends(world: StepWorld) -> None:
    chat = await world.personal_chat(ANA)
    handoff = await requested(world)
    world.clock.advance(STAY.interval)
    item = await world.item(f"stay:{handoff.id}:1")
    world.connector.fail_next(429, retry_after=5, method="POST")

    with pytest.raises(SendFailed):
        await world.run(handlers(world).stay_reminder, item)

    booked = await world.item(f"stay:{handoff.id}:2")
    assert booked.not_before == NOW + 2 * STAY.interval
    # The retry sends the reminder, and books nothing twice.
    await world.run(handlers(world).stay_reminder, await world.item(item.dedupe_key))
    assert world.texts(chat) == [
        f"Case {CASE} has waited 1 hour and nobody has accepted it yet. It stays with you "
        "until another engineer takes it over."
    ]
    assert len(await world.items(effects.OutboxKind.STAY_REMINDER)) == 2


async def test_the_smes_are_told_once_when_the_handoff_waited_long_enough(
    world: StepWorld,
) -> None:
    await world.personal_chat(ANA)
    handoff = await requested(world)
    world.clock.advance(STAY.tell_smes_after)
    due = await world.enqueued(effects.stay_reminder(handoff, world.clock.now(), 4))

    await world.run(handlers(world).stay_reminder, due)

    [notice] = [
        i
        for i in await world.items(effects.OutboxKind.NOTIFY)
        if i.dedupe_key.startswith("stay-sme")
    ]
    assert notice.payload["person"]["id"] == SME.id
    assert "has waited 4 hours without an owner" in notice.payload["text"]
    following = await world.item(f"stay:{handoff.id}:5")
    assert following.payload["smes_told"] is True

    world.clock.advance(STAY.interval)
    await world.run(handlers(world).stay_reminder, following)
    sme_notices = [
        i for i in await world.items(effects.OutboxKind.NOTIFY) if "stay-sme" in i.dedupe_key
    ]
    assert len(sme_notices) == 1, "the SMEs are told once"
    assert len(world.texts(personal_chat_id(ANA))) == 2


async def test_with_no_sme_to_tell_the_requester_hears_so(world: StepWorld) -> None:
    chat = await world.personal_chat(ANA)
    handoff = await requested(world)
    world.clock.advance(STAY.tell_smes_after)
    due = await world.enqueued(effects.stay_reminder(handoff, world.clock.now(), 4))
    await world.run(handlers(world, smes=()).stay_reminder, due)
    [told] = world.texts(chat)
    assert told.endswith(effects.no_sme_reachable())


async def test_the_last_stay_reminder_books_no_other(world: StepWorld) -> None:
    chat = await world.personal_chat(ANA)
    handoff = await requested(world)
    world.clock.advance(STAY.interval)
    last = await world.enqueued(
        effects.stay_reminder(handoff, world.clock.now(), MAX_STAY_REMINDERS)
    )
    await world.run(handlers(world).stay_reminder, last)
    assert len(world.texts(chat)) == 1
    keys = {i.dedupe_key for i in await world.items(effects.OutboxKind.STAY_REMINDER)}
    assert f"stay:{handoff.id}:{MAX_STAY_REMINDERS + 1}" not in keys
