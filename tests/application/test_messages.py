"""What the bot says, as a reader sees it: words people typed come back as words (never a link
or a mention they slipped in), the audit log reads in the reader's zone, and the out-of-office
summary and a long-running case's status say what applies and nothing else."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from application import messages
from handoff.escalation import Escalation, EscalationState
from handoff.models import AuditEntry, AuditKind, Person
from handoff.user_settings import UserSettings

from harness import records
from harness.scenario import ANA, BO, StillClock

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


# -- The audit trail ----------------------------------------------------------------------


def bound_channel(previous: str = "") -> AuditEntry:
    return AuditEntry(
        kind=AuditKind.CHANNEL_BOUND,
        actor=BO,
        at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        subject="19:c@thread.tacv2",
        data={
            "team_name": "Support",
            "channel_name": "Case Transfer",
            "team_id": "19:t@thread.tacv2",
            "previous_channel": previous,
        },
    )


def test_the_audit_trail_reads_in_the_readers_zone() -> None:
    clock = StillClock(datetime(2026, 7, 1, 6, 30, tzinfo=UTC))
    settings = UserSettings(person=ANA, region="EMEA", timezone="Europe/Berlin")
    said = messages.audit_trail(
        [records.said_by(ANA, settings, clock), bound_channel()], "Europe/Berlin"
    )
    lines = said.splitlines()
    assert lines[0] == "**Audit log**, newest first (times in Europe/Berlin)"
    # Summer time in Berlin; winter time in November.
    assert lines[2].startswith("- Wed 2026-07-01 08:30 CEST")
    assert lines[2].endswith(
        "· Ana Lopez · changed their settings: region not set → EMEA, "
        "time zone not set → Europe/Berlin"
    )
    assert lines[3].startswith("- Mon 2026-11-23 11:00 CET")
    assert lines[3].endswith(
        "· Bo Receiver · bound the Case Transfer channel: Case Transfer in Support"
    )
    assert "**status** <case>" in lines[-1]


def test_the_audit_trail_in_utc_and_a_rebinding() -> None:
    said = messages.audit_trail([bound_channel(previous="19:old@thread.tacv2")], "Etc/UTC")
    assert "- Mon 2026-11-23 10:00 UTC · Bo Receiver · bound the Case Transfer channel" in said
    assert said.splitlines()[2].endswith("in Support (it was another channel)")


def test_an_empty_audit_trail_says_what_would_show() -> None:
    assert messages.audit_trail([], "Etc/UTC") == (
        "**Audit log**: nothing yet (the channel binding and settings changes show here)."
    )


def test_a_hostile_channel_name_in_the_audit_trail_stays_words() -> None:
    entry = bound_channel().model_copy(
        update={"data": {"channel_name": HOSTILE, "team_name": HOSTILE}, "actor": HOSTILE_PERSON}
    )
    said = messages.audit_trail([entry], "Etc/UTC")
    assert not injected(said) and "our wiki" in said


# -- The out-of-office summary ------------------------------------------------------------


def oof(
    handed: list[str] | None = None,
    failed: list[tuple[str, str]] | None = None,
    listed: int = 0,
    leads: bool = True,
) -> list[str]:
    said = messages.oof_summary(
        "Planned, one week or less",
        "cy@example.com",
        handed or [],
        failed or [],
        listed,
        leads,
        "I am away.",
        reminded=True,
    )
    return said.split("\n\n")


def test_an_oof_summary_with_nothing_to_hand_over() -> None:
    parts = oof()
    assert parts[0] == "**Out of office — planned, one week or less**"
    assert parts[1:] == [
        "Your automatic reply:",
        "I am away.",
        "I will remind you to take your cases back when you return.",
    ]


def test_an_oof_summary_names_the_cases_handed_off_and_those_not() -> None:
    parts = oof(handed=["111", "222"], failed=[("333", "it already has an open handoff")])
    text = "\n\n".join(parts)
    assert (
        "Warm handoff to cy@example.com requested for your critical cases: 111, 222. Talk to "
        "your teammate before you go."
    ) in text
    assert "**Not handed off** — these critical cases are still yours:\n- 333: it already" in text
    assert text.index("Warm handoff") < text.index("Not handed off") < text.index("automatic")


@pytest.mark.parametrize(
    ("leads", "words"),
    [
        (True, "List of 3 other case(s) sent to your Team Leader."),
        (False, "List of 3 other case(s) ready, but no Team Leader is configured."),
    ],
)
def test_an_oof_summary_says_where_the_list_went(leads: bool, words: str) -> None:
    parts = oof(listed=3, leads=leads)
    assert words in parts
    assert not any("Warm handoff" in part or "Not handed off" in part for part in parts)


# -- A long-running case's status ---------------------------------------------------------


def test_long_running_without_owners_offers_no_chat() -> None:
    said = messages.long_running_status("123456", "flagged: two zones", {})
    assert said == "Case 123456 is long-running: flagged: two zones."


def test_long_running_with_owners_offers_their_chat() -> None:
    said = messages.long_running_status(
        "123456",
        "it has gone round the globe: EMEA → US → APAC → EMEA",
        {"EMEA": "Ana", "US": "Bo"},
    )
    assert said == (
        "Case 123456 is long-running: it has gone round the globe: EMEA → US → APAC → EMEA."
        "\n\nRegional owners, from who owned it:\n- EMEA: Ana\n- US: Bo"
        "\n\nType **longrunning 123456 chat** to make their group chat."
    )


def test_long_running_with_owners_but_no_group_chats_says_what_to_set() -> None:
    said = messages.long_running_status(
        "123456", "flagged: x", {"EMEA": "Ana (ana@example.com)"}, ("TEAMS_APP_ID",)
    )
    assert "- EMEA: Ana (ana@example.com)" in said
    assert said.endswith(
        "Their group chat cannot be made: group chats are not configured for this bot "
        "(an admin must set TEAMS_APP_ID)."
    )
    assert "longrunning 123456 chat" not in said
