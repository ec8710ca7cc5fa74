"""What the bot says is plain words: no spec rule ids ("R-STAY"), no seed documents ("seed
001"), no "0.1 h". Every message of application/messages (each function's output, in English
and marked for translation), the texts other modules show people, and the cards below are read;
every card and message the rest of the suite makes the bot show is read by the harness
(harness/plain_words.py)."""

from __future__ import annotations

import inspect
import types
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application import insights, messages, outbox_admin, personal_settings
from cards.long_running_card import owners_card
from cards.transfer_card import handoff_card
from handoff import access, long_running, oof
from handoff.access import Viewer
from handoff.escalation import Escalation, EscalationState
from handoff.models import (
    AuditEntry,
    AuditKind,
    Case,
    Handoff,
    HandoffKind,
    HandoffNotes,
    HandoffState,
    Person,
    Severity,
    SupportPlan,
)
from handoff.user_settings import UserSettings

from harness.card_schema import assert_valid_card
from harness.plain_words import jargon_in, visible_strings
from harness.pseudo_language import speaking_pseudo, untranslated

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CASE = "2311230040001234"
LEAD = Person(id="29:tara", name="Tara Lead")

# Sample values by parameter name, then by annotation, for calling every message function.
_BY_NAME: dict[str, Any] = {
    "number": CASE,
    "region": "EMEA",
    "successor_region": "US",
    "zone": "Europe/Berlin",
    "settings": UserSettings(person=LEAD, region="EMEA", timezone="Europe/Berlin"),
    "escalation": Escalation(
        case_number=CASE,
        requester=LEAD,
        summary="s",
        steps_tried=(),
        research=(),
        state=EscalationState.REJECTED,
        decided_by=LEAD,
        comment="Try the quota first",
        created_at=NOW,
    ),
    "entries": [
        AuditEntry(
            kind=AuditKind.SETTINGS_CHANGED,
            actor=LEAD,
            at=NOW,
            subject=LEAD.id,
            data={"region": {"from": "", "to": "EMEA"}},
        ),
        AuditEntry(
            kind=AuditKind.CHANNEL_BOUND,
            actor=LEAD,
            at=NOW,
            subject="19:x",
            data={"channel_name": "Case Transfer", "team_name": "Support", "previous_channel": "y"},
        ),
    ],
    "waited": timedelta(minutes=130),
}
_BY_ANNOTATION: dict[str, Any] = {
    "str": "Uma",
    "str | None": "Europe/Berlin",
    "int": 2,
    "bool": True,
    "list[str]": ["Tara Lead", "Uma Lead"],
    "tuple[str, ...]": ("EMEA", "US"),
    "dict[str, str]": {"EMEA": "Dana Owner", "US": "Uma"},
    "list[tuple[str, str]]": [(CASE, "its handoff changed meanwhile")],
    "Sequence[str]": ["TEAMS_APP_ID"],
}


def _arguments(function: Any) -> dict[str, Any]:
    arguments = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if name in _BY_NAME:
            arguments[name] = _BY_NAME[name]
        elif str(parameter.annotation) in _BY_ANNOTATION:
            arguments[name] = _BY_ANNOTATION[str(parameter.annotation)]
        else:
            raise AssertionError(f"give {function.__name__}({name}) a sample value here")
    return arguments


def _module_texts(module: types.ModuleType) -> list[str]:
    """The module's texts for people: its str constants and its functions' outputs."""
    texts = []
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        if isinstance(value, str):
            texts.append(value)
        elif inspect.isfunction(value) and value.__module__.startswith(module.__name__):
            said = value(**_arguments(value))
            if isinstance(said, str):
                texts.append(said)
    return texts


def test_every_message_of_the_bot_is_plain_words() -> None:
    texts = _module_texts(messages)
    assert len(texts) > 50, "the messages were all read"
    assert jargon_in(texts) == []


def test_every_message_of_the_bot_is_said_in_the_readers_language() -> None:
    with speaking_pseudo():
        texts = _module_texts(messages)
    assert len(texts) > 50, "the messages were all read"
    assert {text: words for text in texts if (words := untranslated(text))} == {}


@pytest.mark.parametrize(
    "module", [access, long_running, oof, outbox_admin, personal_settings, insights]
)
def test_the_texts_other_modules_show_are_plain_words(module: types.ModuleType) -> None:
    texts = [v for k, v in vars(module).items() if isinstance(v, str) and not k.startswith("__")]
    # Texts said in the turn's language are functions without arguments.
    texts += [
        v()
        for k, v in vars(module).items()
        if inspect.isfunction(v)
        and v.__module__ == module.__name__
        and not k.startswith("_")
        and not inspect.signature(v).parameters
        and inspect.signature(v).return_annotation == "str"
    ]
    assert jargon_in([text for text in texts if " " in text]) == []


def _handoff(state: HandoffState, severity: Severity, is_24x7: bool) -> Handoff:
    return Handoff(
        case=Case(
            number=CASE,
            severity=severity,
            is_24x7=is_24x7,
            plan=SupportPlan.PREMIER,
            product_skill="HDInsight",
            customer_region="US",
            customer_timezone="America/Chicago",
        ),
        kind=HandoffKind.NON_24X7,
        requester=Person(id="29:rita", name="Rita"),
        from_region="EMEA",
        target_region="US",
        reason="Shift end in the case's group chat",
        notes=HandoffNotes(summary="Autoscale stops at 20 nodes.", next_steps_us=("US SE: logs",)),
        state=state,
        owner=LEAD if state is HandoffState.ACCEPTED else None,
        long_running="it has gone round the globe: EMEA → US → APAC → EMEA",
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize("state", list(HandoffState))
@pytest.mark.parametrize("viewer", list(Viewer))
def test_the_handoff_card_is_plain_words_in_every_state_and_copy(
    state: HandoffState, viewer: Viewer
) -> None:
    handoff = _handoff(state, Severity.A, True)
    card = handoff_card(handoff, notice="Changed meanwhile.", viewer=viewer)
    assert_valid_card(card)
    assert jargon_in(visible_strings(card)) == []


def test_the_regional_owners_card_is_plain_words() -> None:
    owners = {
        "EMEA": Person(id="29:dana", name="Dana Owner", aad_object_id="aad-dana"),
        "US": Person(id="29:uma", name="Uma"),
    }
    card = owners_card(CASE, ("EMEA", "US"), owners, {}, [], {"aad-dana": "dana@x.example"})
    assert_valid_card(card)
    assert jargon_in(visible_strings(card)) == []


@pytest.mark.parametrize(
    ("waited", "words"),
    [
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=6, seconds=50), "6 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=2, minutes=10), "2 hours 10 minutes"),
        (timedelta(days=1, hours=3, minutes=5), "1 day 3 hours"),
        (timedelta(days=2), "2 days"),
    ],
)
def test_durations_read_like_words(waited: timedelta, words: str) -> None:
    from handoff.durations import in_words

    assert in_words(waited) == words


def test_the_stay_reminder_says_how_long_in_words() -> None:
    said = messages.stay_reminder(CASE, timedelta(minutes=6))
    assert said.startswith(f"Case {CASE} has waited 6 minutes and nobody has accepted it yet.")
    assert jargon_in([said]) == []
