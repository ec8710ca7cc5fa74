"""The outbox messages the domain decides: which lane each goes out in."""

from __future__ import annotations

from datetime import UTC, datetime

from handoff import effects
from handoff.models import Person

AAD = "aaaaaaaa-0000-4000-8000-000000000001"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def test_a_person_met_in_teams_and_listed_as_a_lead_has_one_chat_lane() -> None:
    in_teams = Person(id="29:teams-id", name="Tara Lead", aad_object_id=AAD)
    from_config = Person(id=AAD.upper(), name="Tara Lead", aad_object_id=AAD.upper())

    as_requester = effects.tell(in_teams, "Your escalation is decided.", "decided", NOW)
    as_lead = effects.tell(from_config, "An escalation waits for you.", "waiting", NOW)

    assert as_requester.lane == as_lead.lane == f"chat:{AAD}"


def test_a_person_known_only_by_teams_id_has_a_lane_of_their_own() -> None:
    first = effects.tell(Person(id="29:one", name="One"), "hello", "k", NOW)
    second = effects.tell(Person(id="29:two", name="Two"), "hello", "k", NOW)

    assert first.lane == "chat:29:one"
    assert second.lane == "chat:29:two"


def test_a_handoff_opened_from_a_message_waits_its_turn_in_the_persons_chat() -> None:
    person = Person(id="29:teams-id", name="Ana", aad_object_id=AAD)
    draft = {"case": "2311230040009999", "text": "Summary: x", "zone": "Europe/Berlin"}
    opened = effects.open_handoff(person, draft, "k1", NOW)
    assert opened.kind == effects.OutboxKind.OPEN_HANDOFF
    assert opened.lane == f"chat:{AAD}"  # after what the bot already has to say there
    assert opened.payload == {"person": person.model_dump(), **draft}
    assert opened.dedupe_key != effects.open_handoff(person, draft, "k2", NOW).dedupe_key
