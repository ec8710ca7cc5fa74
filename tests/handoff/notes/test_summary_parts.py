"""Which of the three parts a summary says (the issue, what was done, the current conclusion),
read from its words, and whether a critsit reason says anything beyond the severity."""

from __future__ import annotations

import pytest

from handoff.notes.summary_parts import (
    MIN_ISSUE_WORDS,
    is_real_reason,
    issue_words,
    missing_parts,
    says_a_conclusion,
    says_what_was_done,
)

from harness.dialog_user import CRITICAL_NOTES
from harness.handoff_flow import NOTES_FORM

# The General Template's example of a summary that says nothing.
EMPTY_SUMMARY = "Issue with Spark. Still looking into it."


@pytest.mark.parametrize("summary", [CRITICAL_NOTES["summary"], NOTES_FORM["summary"]])
def test_the_example_summaries_say_every_part(summary: str) -> None:
    assert missing_parts(summary) == ()
    assert len(issue_words(summary)) >= MIN_ISSUE_WORDS
    assert says_what_was_done(summary)
    assert says_a_conclusion(summary)


def test_a_summary_that_says_nothing_lacks_all_three_parts_in_order() -> None:
    assert missing_parts(EMPTY_SUMMARY) == ("issue", "done", "conclusion")


def test_two_parts_of_three_are_enough() -> None:
    # The issue and a conclusion, but nothing done: still let through.
    summary = "Autoscale stops at twenty nodes since the upgrade; we suspect the quota service."
    assert not says_what_was_done(summary)
    assert missing_parts(summary) == ()


def test_one_part_alone_is_not_enough_and_the_others_are_named() -> None:
    summary = "Autoscale stops at twenty nodes since the upgrade."
    assert missing_parts(summary) == ("done", "conclusion")


def test_words_every_case_has_say_nothing_of_this_one() -> None:
    assert issue_words("The customer has an issue with the case, still checking") == []
    assert issue_words("Kafka consumer lag grows after the broker upgrade") == [
        "kafka",
        "consumer",
        "lag",
        "grows",
        "broker",
        "upgrade",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "We restarted the brokers",
        "The customer rebuilt the index",
        "Ran the diagnostics",
        "Fixed after restarting the gateway",
        "Raising the quota didn't help",
        "The new driver made no difference",
    ],
)
def test_an_action_taken_counts_as_done(text: str) -> None:
    assert says_what_was_done(text)


@pytest.mark.parametrize(
    "text",
    [
        "Jobs failed and the cluster crashed",
        "Queries stopped and connections dropped",
        "Still looking into it",
        "Investigating, in progress",
    ],
)
def test_a_symptom_in_the_past_or_filler_is_not_something_done(text: str) -> None:
    assert not says_what_was_done(text)


@pytest.mark.parametrize(
    ("text", "concludes"),
    [
        ("Probably the firewall drops idle connections", True),
        ("Waiting for the customer's logs", True),
        ("The error persists after the patch", True),
        ("Still looking into it", False),
        ("Broker upgrade, consumer lag", False),
    ],
)
def test_a_conclusion_is_a_judgement_a_result_or_what_it_waits_for(
    text: str, concludes: bool
) -> None:
    assert says_a_conclusion(text) is concludes


@pytest.mark.parametrize(
    ("reason", "real"),
    [
        (CRITICAL_NOTES["critsit_reason"], True),
        ("Outage", True),
        ("x", False),
        ("Sev A, critical, urgent!", False),
        ("TBD", False),
        ("n/a", False),
    ],
)
def test_a_critsit_reason_must_say_more_than_the_severity(reason: str, real: bool) -> None:
    assert is_real_reason(reason) is real
