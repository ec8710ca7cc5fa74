"""What the bot says about a person's own things, as they read it: the audit log in the
reader's zone, with the settings changed in words; the out-of-office summary says what applies
and nothing else, and counts the cases it lists."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from application import messages
from handoff.models import AuditEntry, AuditKind
from handoff.user_settings import UserSettings

from harness import records
from harness.pseudo_language import speaking_pseudo, untranslated
from harness.scenario import ANA, BO, StillClock

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
    assert lines[2].startswith("- Wed Jul 1, 2026, 8:30 AM CEST")
    assert lines[2].endswith(
        "· Ana Lopez · changed their settings: region not set → EMEA, "
        "time zone not set → Europe/Berlin"
    )
    assert lines[3].startswith("- Mon Nov 23, 2026, 11:00 AM CET")
    assert lines[3].endswith(
        "· Bo Receiver · bound the Case Transfer channel: Case Transfer in Support"
    )
    assert "**status** <case>" in lines[-1]


def test_the_audit_trail_in_utc_and_a_rebinding() -> None:
    said = messages.audit_trail([bound_channel(previous="19:old@thread.tacv2")], "Etc/UTC")
    assert (
        "- Mon Nov 23, 2026, 10:00 AM UTC · Bo Receiver · bound the Case Transfer channel" in said
    )
    assert said.splitlines()[2].endswith("in Support (it was another channel)")


def test_an_empty_audit_trail_says_what_would_show() -> None:
    assert messages.audit_trail([], "Etc/UTC") == (
        "**Audit log**: nothing yet (the channel binding and settings changes show here)."
    )


def test_the_audit_trail_in_another_language_translates_the_settings_and_their_values() -> None:
    clock = StillClock(datetime(2026, 7, 1, 6, 30, tzinfo=UTC))
    settings = UserSettings(person=ANA, region="EMEA", muted=True)
    with speaking_pseudo():
        said = messages.audit_trail([records.said_by(ANA, settings, clock)], "Etc/UTC")
    [line] = [line for line in said.splitlines() if line.startswith("- ")]
    assert line.endswith(
        "· Ana Lopez · ⟦changed their settings: ⟦⟦region⟧ ⟦not set⟧ → EMEA⟧, "
        "⟦⟦muted⟧ ⟦on⟧ → ⟦muted⟧⟧⟧"
    )
    assert untranslated(said) == []


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
        (True, "List of 3 other cases sent to your Team Leader."),
        (False, "List of 3 other cases ready, but no Team Leader is configured."),
    ],
)
def test_an_oof_summary_says_where_the_list_went(leads: bool, words: str) -> None:
    parts = oof(listed=3, leads=leads)
    assert words in parts
    assert not any("Warm handoff" in part or "Not handed off" in part for part in parts)


def test_an_oof_summary_counts_one_listed_case_as_one() -> None:
    assert "List of 1 other case sent to your Team Leader." in oof(listed=1)
