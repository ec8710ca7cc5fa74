"""The words the handoff's cards share: every state and every button has its words, a history
reads as who did what, and a name in another script is set apart in its line."""

from __future__ import annotations

from datetime import UTC, datetime

from cards.handoff_words import (
    CARD_VERBS,
    VERB_INPUTS,
    action_title,
    local_time,
    state_inline,
    state_words,
    timeline,
)
from handoff.models import AuditEvent, HandoffState, Person
from handoff.request import new_handoff
from handoff.state_machine import Accept, apply

from harness import records

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CASE = "2311230040001234"
ANA = Person(id="29:ana", name="Ana Lopez")
HEBREW = Person(id="29:he", name="אברהם כהן")


def test_every_state_reads_as_words_on_its_own_and_within_a_line() -> None:
    for state in HandoffState:
        alone, inline = state_words(state), state_words(state, inline=True)
        assert alone and alone[0].isupper(), state
        assert inline == alone[0].lower() + alone[1:], state
    assert state_words(HandoffState.MORE_INFO_NEEDED) == "More info needed"


def test_every_button_has_a_title_and_every_box_a_label() -> None:
    titles = [action_title(verb) for verb in CARD_VERBS]
    assert len(set(titles)) == len(CARD_VERBS)
    assert action_title(CARD_VERBS[0]) == "Accept"
    assert {verb for verb in VERB_INPUTS} <= set(CARD_VERBS)


def test_the_history_says_who_did_what_and_sets_apart_a_right_to_left_name() -> None:
    handoff = new_handoff(records.answers(CASE, "EMEA", "US"), records.PLACEHOLDER_OUTPUTS, ANA, T0)
    events = [
        AuditEvent(handoff_id=handoff.id, case_number=CASE, kind="requested", actor=ANA, at=T0),
        AuditEvent(
            handoff_id=handoff.id,
            case_number=CASE,
            kind="accept",
            actor=HEBREW,
            at=T0,
            data={"instead_of": "Bo Receiver", "handoff_id": "x"},
        ),
        AuditEvent(
            handoff_id=handoff.id,
            case_number=CASE,
            kind="some_new_kind",
            actor=ANA,
            at=T0,
            data={"reason": "because"},
        ),
    ]
    assert timeline(events).splitlines() == [
        f"- {local_time(T0)} · Ana Lopez · requested",
        f"- {local_time(T0)} · \u2068אברהם כהן\u2069 · took it instead of Bo Receiver",
        f"- {local_time(T0)} · Ana Lopez · some new kind: because",
    ]
    taken = apply(handoff, Accept(actor=HEBREW), T0).handoff
    assert state_inline(taken) == "accepted by \u2068אברהם כהן\u2069"
    assert state_inline(handoff) == "requested"


def test_the_records_english_reason_and_who_waits_read_in_the_readers_language() -> None:
    from cards.handoff_words import reason_words, who_waits_words
    from handoff.policy import TransferReason
    from i18n import _, in_english, speaking

    reason = TransferReason.CUSTOMER_TIME_ZONE
    with in_english():
        english = reason.label
    handoff = new_handoff(records.answers(CASE, "EMEA", "US"), records.PLACEHOLDER_OUTPUTS, ANA, T0)
    kept = handoff.model_copy(
        update={"reason_code": reason.value, "reason": f"{english}. Works from Chicago"}
    )
    with speaking("de"):
        german = reason.label
        assert german != english
        assert reason_words(kept) == f"{german}. Works from Chicago"
        assert who_waits_words("We wait for the customer") == _("We wait for the customer")
        assert who_waits_words("We wait for the customer") != "We wait for the customer"
        assert who_waits_words("the vendor, by Friday") == "the vendor, by Friday"
    assert reason_words(kept) == kept.reason
    other = kept.model_copy(update={"reason_code": "other", "reason": "Because of the vendor"})
    assert reason_words(other) == "Because of the vendor"
