"""What the bot says, as a reader sees it: words people typed come back as words (never a link
or a mention they slipped in), whatever module of application/messages writes them; counts read
as a person would write them; a reader of another language gets the whole text translated."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from application import messages
from handoff.escalation import Escalation, EscalationState
from handoff.models import AuditEntry, AuditKind, Person

from harness.pseudo_language import speaking_pseudo, untranslated
from harness.scenario import ANA, BO

# What someone might type to make the bot's message link elsewhere or mention someone.
HOSTILE = "[our wiki](https://evil.example) <at>Boss</at>"
HOSTILE_PERSON = Person(id="29:x", name=HOSTILE, aad_object_id="aad-x")

_LINK = re.compile(r"\[[^\]]*\]\s*\(")
_MENTION = re.compile(r"<at>", re.IGNORECASE)


def injected(said: str) -> bool:
    """Whether Teams would render a link or a mention from this text."""
    return bool(_LINK.search(said) or _MENTION.search(said))


def decided_by(person: Person, comment: str) -> Escalation:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    return Escalation(
        case_number="2311230040001234",
        requester=ANA,
        summary="s",
        steps_tried=(),
        research=(),
        state=EscalationState.REJECTED,
        decided_by=person,
        decided_at=at,
        comment=comment,
        version=2,
        created_at=at,
    )


ECHOES: dict[str, Callable[[str], str]] = {
    "unknown command": messages.unknown_command,
    "not a case number": messages.not_a_case_number,
    "unknown region": lambda t: messages.unknown_region(t, ("EMEA", "US")),
    "long-running reason": lambda t: messages.long_running_status("1", t, {}),
    "long-running owner": lambda t: messages.long_running_status("1", "r", {"EMEA": t}),
    "shift summary": lambda t: messages.shift_ending(t, "US", t, t, "EMEA", True),
    "not your shift": lambda t: messages.not_your_shift("1", t),
    "answered question": lambda t: messages.answer_recorded("1", t),
    "meant for": lambda t: messages.take_instead("1", t),
    "decision comment": lambda t: messages.escalation_decided(decided_by(BO, t)),
    "decider's name": lambda t: messages.escalation_decided(
        decided_by(Person(id="29:d", name=t), "c")
    ),
    "out of office name": messages.oof_ta_intro,
    "teammate": lambda t: messages.oof_summary(
        "Unexpected, short", t, ["1"], [], 0, True, "r", reminded=True
    ),
    "why not handed off": lambda t: messages.oof_summary(
        "k", "", [], [("1", t)], 0, True, "r", reminded=True
    ),
    "leads unreachable": lambda t: messages.no_lead_reachable("1", [t]),
    "approval reached nobody": lambda t: messages.approval_reached_nobody("1", [t]),
    "chat planned": lambda t: messages.chat_planned("1", t),
    "chat retried": lambda t: messages.chat_retried("1", t),
    "undelivered to": lambda t: messages.undelivered_line("a card", t, "gone"),
}


@pytest.mark.parametrize("echo", ECHOES.values(), ids=list(ECHOES))
def test_typed_words_come_back_as_words_not_links_or_mentions(echo: Callable[[str], str]) -> None:
    assert injected(HOSTILE)
    said = echo(HOSTILE)
    assert not injected(said), said
    # The words themselves are still there to read (the first of them, where cut short).
    assert "our wiki" in said


def test_plain_words_are_echoed_unchanged() -> None:
    assert "“statsu”" in messages.unknown_command("statsu")
    assert "Cy Named" in messages.take_instead("1", "Cy Named")


def test_long_echoes_are_cut_short() -> None:
    said = messages.unknown_command("x" * 200)
    assert "x" * 40 + "…" in said and "x" * 41 not in said


def test_a_hostile_channel_name_in_the_audit_trail_stays_words() -> None:
    entry = AuditEntry(
        kind=AuditKind.CHANNEL_BOUND,
        actor=HOSTILE_PERSON,
        at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        subject="19:c@thread.tacv2",
        data={"channel_name": HOSTILE, "team_name": HOSTILE},
    )
    said = messages.audit_trail([entry], "Etc/UTC")
    assert not injected(said) and "our wiki" in said


# -- Counts and the reader's language -----------------------------------------------------


@pytest.mark.parametrize(
    ("posted", "words"),
    [
        (0, "handoff cards appear here."),
        (1, "Posting the 1 open handoff that was waiting."),
        (3, "Posting the 3 open handoffs that were waiting."),
    ],
)
def test_the_bound_channel_counts_the_waiting_handoffs_in_words(posted: int, words: str) -> None:
    said = messages.setup_done(posted)
    assert said.startswith("This channel is now the Case Transfer channel") and said.endswith(words)


def test_a_reader_of_another_language_gets_the_whole_sentence_with_the_words_put_in() -> None:
    with speaking_pseudo():
        said = messages.unknown_region("Mars", ("EMEA", "US"))
        plural = messages.setup_done(2)
    assert said == "⟦“Mars” is not a region; use one of EMEA, US.⟧"
    assert plural.startswith("⟦") and "2 open handoffs" in plural
    assert untranslated(said) == untranslated(plural) == []
