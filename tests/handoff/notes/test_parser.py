"""Notes pasted in the team's templates, read back (R-NOTES): seed 000's General Template, as
the bot writes it, and seed 001's PASS TO / REASON / ... list as engineers copy it."""

import datetime as dt

import pytest

from handoff.models import (
    CaseStatus,
    Checklist,
    HandoffNotes,
    NextContact,
    PendingOn,
    StepTried,
)
from handoff.notes.parser import MAX_NOTES_CHARS, parse_items, parse_notes, parse_steps
from handoff.notes.template import ASKED_FIELDS

# Seed 001's template, filled in the way it is written there: a bulleted list of KEY: value.
SEED_001_PASTE = """\
Summary
Nightly load fails with a gateway timeout; we raised the timeout and now the copy step fails.

- PASS TO: US
- REASON: Customer needs support in US hours while the load runs
- ISSUE: Nightly load to the warehouse fails since Monday
- STEPS TRIED: Raised the gateway timeout -> copy step fails instead
- NEXT STEPS: Web meeting with the customer at 09:00 to collect the firewall logs
- NEXT CUSTOMER CONTACT: Customer waits for us, 2026-06-03 09:00 America/New_York
"""


def test_seed_001_lines_are_each_read_into_their_field() -> None:
    parsed = parse_notes(SEED_001_PASTE)
    assert parsed.summary == (
        "Nightly load fails with a gateway timeout; we raised the timeout and now the copy "
        "step fails."
    )
    assert parsed.pass_to == "US"
    assert parsed.handoff_reason == "Customer needs support in US hours while the load runs"
    assert parsed.issue == "Nightly load to the warehouse fails since Monday"
    assert parsed.steps_tried == (
        StepTried(step="Raised the gateway timeout", outcome="copy step fails instead"),
    )
    assert parsed.next_steps_us == (
        "Web meeting with the customer at 09:00 to collect the firewall logs",
    )
    assert parsed.next_customer_contact == NextContact(
        at=dt.datetime(2026, 6, 3, 13, 0, tzinfo=dt.UTC), who_waits="Customer waits for us"
    )


@pytest.mark.parametrize(
    "line",
    [
        "NEXT STEPS: Web meeting with the customer at 09:00",
        "Next steps: Web meeting with the customer at 09:00",
        "- NEXT STEPS: Web meeting with the customer at 09:00",
    ],
)
def test_a_next_steps_line_is_what_the_next_engineer_does(line: str) -> None:
    parsed = parse_notes(f"Summary\nJobs hang after the driver update\n{line}\n")
    assert parsed.next_steps_us == ("Web meeting with the customer at 09:00",)
    assert parsed.summary == "Jobs hang after the driver update"


@pytest.mark.parametrize(
    "line",
    [
        "NEXT CUSTOMER CONTACT: 2026-06-03 09:00 America/New_York, customer waits for us",
        "Next customer contact: customer waits for us - 2026-06-03 09:00 (UTC-04:00)",
        "- NEXT CUSTOMER CONTACT: customer waits for us; Wed 2026-06-03 09:00 EDT "
        "(UTC-04:00, America/New_York)",
    ],
)
def test_a_next_customer_contact_line_gives_the_time_and_who_waits(line: str) -> None:
    parsed = parse_notes(line)
    assert parsed.next_customer_contact == NextContact(
        at=dt.datetime(2026, 6, 3, 13, 0, tzinfo=dt.UTC), who_waits="customer waits for us"
    )


@pytest.mark.parametrize(
    "text",
    [
        "REASON: Customer needs support in US hours",
        "- REASON: Customer needs support in US hours",
        "Reason for handoff\n=============\nCustomer needs support in US hours",
    ],
)
def test_a_reason_line_is_the_handoffs_reason(text: str) -> None:
    parsed = parse_notes(f"Summary\nJobs hang after the driver update\n{text}\n")
    assert parsed.handoff_reason == "Customer needs support in US hours"
    assert parsed.summary == "Jobs hang after the driver update"


def test_pass_to_language_and_status_are_read() -> None:
    parsed = parse_notes(
        "- PASS TO: apac\nLanguage needs: Japanese speaker\nCurrent status: Waiting on vendor\n"
    )
    assert parsed.pass_to == "APAC"
    assert parsed.language_needs == "Japanese speaker"
    assert parsed.status is CaseStatus.WAITING_ON_VENDOR


@pytest.mark.parametrize(
    ("text", "language", "needs"),
    [
        ("Customer language: German; Japanese speaker", "de", "Japanese speaker"),
        ("Customer language: German", "de", None),
        (
            "customer language : Deutsch;  calls only in the morning",
            "de",
            "calls only in the morning",
        ),
        ("Customer language: Portuguese (Brazil); a; b", "pt_BR", "a; b"),
        ("Japanese speaker", None, "Japanese speaker"),
        # A language the bot does not write in is the engineer's words, kept whole.
        ("Customer language: Klingon; x", None, "Customer language: Klingon; x"),
    ],
)
def test_the_customers_language_is_read_from_the_language_needs(
    text: str, language: str | None, needs: str | None
) -> None:
    parsed = parse_notes(f"Language Needs\n=============\n{text}\n\nIssue\n=============\nx\n")
    assert (parsed.customer_language, parsed.language_needs) == (language, needs)
    assert parsed.issue == "x"


@pytest.mark.parametrize(
    ("item", "step", "outcome"),
    [
        ("Raised the timeout -> copy step fails", "Raised the timeout", "copy step fails"),
        ("Raised the timeout => copy step fails", "Raised the timeout", "copy step fails"),
        ("Raised the timeout \u2192 copy step fails", "Raised the timeout", "copy step fails"),
        ("Raised the timeout -> Outcome: copy step fails", "Raised the timeout", "copy step fails"),
        # An arrow inside the step (a route, a setting moved) is no separator.
        ("Moved route A->B -> still fails", "Moved route A->B", "still fails"),
        # The bot's own separator wins over an outcome-like word inside the step.
        ("Checked the result: page -> Outcome: blank", "Checked the result: page", "blank"),
        # An outcome may end with a bracket of its own.
        ("Ran the job -> Outcome: fails (error 500)", "Ran the job", "fails (error 500)"),
    ],
)
def test_a_step_and_its_result_are_read_with_or_without_the_word_outcome(
    item: str, step: str, outcome: str
) -> None:
    steps, without = parse_steps(f"- {item}")
    assert steps == (StepTried(step=step, outcome=outcome),)
    assert without == ()


SEED_STYLE_PASTE = (
    "summary\r\n"
    "\\=============\r\n"
    "\r\n"
    "\r\n"
    "Customer cannot start the cluster after the upgrade.\r\n"
    "\r\n"
    "\r\n"
    "Rolled back the config; still failing.\r\n"
    "NEXT STEPS:\r\n"
    "\\=============\r\n"
    "CX:\r\n"
    "* Send the cluster logs\r\n"
    "\u2022 Try the upgrade on a test cluster\r\n"
    "msft:\r\n"
    "1) We will review the logs\r\n"
    "2. EMEA SE: open a PG ticket if needed\r\n"
    "## Research\r\n"
    "- https://example.invalid/kb/cluster-start\r\n"
    "**Ticket's Checklist**\r\n"
    "Customer Reachable?:yes\r\n"
    "Waiting for RCA?: Yes/No\r\n"
    "Customer accept English Support?: NO\r\n"
    "Now the issue is pending on?: pg\r\n"
    "IcM ID?:\r\n"
    "<Reason for Critsit:>\r\n"
)


def test_parse_tolerates_case_blank_lines_bullets_and_crlf() -> None:
    parsed = parse_notes(SEED_STYLE_PASTE)
    assert parsed.summary == (
        "Customer cannot start the cluster after the upgrade.\n\n"
        "Rolled back the config; still failing."
    )
    assert parsed.next_steps_customer == (
        "Send the cluster logs",
        "Try the upgrade on a test cluster",
    )
    assert parsed.next_steps_us == (
        "We will review the logs",
        "EMEA SE: open a PG ticket if needed",
    )
    assert parsed.research == ("https://example.invalid/kb/cluster-start",)
    assert parsed.checklist == Checklist(
        customer_reachable=True, accepts_english=False, pending_on=PendingOn.PG
    )
    assert parsed.missing == (
        "reason",
        "issue",
        "steps_tried",
        "icm_or_partner_ticket",
        "next_customer_contact",
        "root_cause",
        "blockers",
        "sla_urgency",
    )


def test_parse_inline_headings_and_steps_without_outcome() -> None:
    parsed = parse_notes(
        "Summary: Jobs hang after the driver update on all nodes\n"
        "Steps tried:\n"
        "- Restarted the driver -> outcome: still hangs\n"
        "- Reinstalled the agent (result: no change)\n"
        "- Checked the quota\n"
    )
    assert parsed.summary == "Jobs hang after the driver update on all nodes"
    assert parsed.steps_tried == (
        StepTried(step="Restarted the driver", outcome="still hangs"),
        StepTried(step="Reinstalled the agent", outcome="no change"),
    )
    assert parsed.steps_without_outcome == ("Checked the quota",)
    assert "steps_tried" in parsed.missing
    assert "summary" not in parsed.missing


def test_parse_of_the_unfilled_seed_template_finds_nothing() -> None:
    template = (
        "Summary \n\\=============\n_<Short description of the issue.>_\n\n"
        "Next Steps:\n\\=============\n\nCx:\n1. _<List of next steps.>_\n\n"
        "MSFT:\n1. _<List of next steps.>_\n\n"
        "Ticket's checklist\n\\=============\n\n"
        "Customer Reachable?:Yes/No\nWaiting for RCA?:Yes/No\n"
        "Now the issue is pending on?: PG/CSS/Customer\nIcM ID?:\n<Reason for Critsit:>\n"
    )
    parsed = parse_notes(template)
    assert parsed.missing == ASKED_FIELDS
    assert parsed.to_notes() == HandoffNotes()


@pytest.mark.parametrize(
    ("when", "zone_name", "expected"),
    [
        ("When: 2026-06-03 09:00 (UTC+02:00)", None, dt.datetime(2026, 6, 3, 7, 0, tzinfo=dt.UTC)),
        (
            "When: 2026-06-03 09:00 Europe/Berlin",
            None,
            dt.datetime(2026, 6, 3, 7, 0, tzinfo=dt.UTC),
        ),
        ("When: 2026-06-03 09:00", "Asia/Tokyo", dt.datetime(2026, 6, 3, 0, 0, tzinfo=dt.UTC)),
        ("When: 2026-06-03 09:00", None, None),
    ],
)
def test_next_contact_time_needs_a_zone(
    when: str, zone_name: str | None, expected: dt.datetime | None
) -> None:
    parsed = parse_notes(
        f"Next customer contact\n{when}\nWho waits for whom: we wait for logs\n",
        zone_name=zone_name,
    )
    if expected is None:
        assert parsed.next_customer_contact is None
        assert "next_customer_contact" in parsed.missing
    else:
        assert parsed.next_customer_contact == NextContact(
            at=expected, who_waits="we wait for logs"
        )


def test_customer_and_microsoft_are_subheadings_only_under_next_steps() -> None:
    parsed = parse_notes(
        "Summary\nCustomer: a retailer with nightly loads that now fail\n"
        "Next steps\nCustomer: send the logs\nMicrosoft: we review them\n"
    )
    assert parsed.summary == "Customer: a retailer with nightly loads that now fail"
    assert parsed.next_steps_customer == ("send the logs",)
    assert parsed.next_steps_us == ("we review them",)


def test_checklist_like_line_in_summary_stays_in_summary() -> None:
    parsed = parse_notes("Summary\nPending on: the customer's network team to open port 443\n")
    assert parsed.summary == "Pending on: the customer's network team to open port 443"
    assert parsed.checklist is None


def test_checklist_question_lines_are_read_outside_the_checklist_section() -> None:
    parsed = parse_notes("Customer Reachable?: No\nIcM ID?: ICM-000002\n")
    assert parsed.checklist == Checklist(customer_reachable=False, icm_id="ICM-000002")


def test_checklist_keys_and_headings_tolerate_tabs_and_runs_of_spaces() -> None:
    parsed = parse_notes(
        "  Ticket's \t checklist  \n"
        "Customer\tReachable ? :   yes\n"
        "Now the issue  is pending on? :\tPG\n"
        "< Reason for   Critsit : Production down >\n"
        "Next   customer contact :\n"
        "When: 2026-06-03 09:00 (UTC+02:00)\n"
        "Who  waits\tfor whom ? : we wait for logs\n"
    )
    assert parsed.checklist == Checklist(
        customer_reachable=True, pending_on=PendingOn.PG, critsit_reason="Production down"
    )
    assert parsed.next_customer_contact == NextContact(
        at=dt.datetime(2026, 6, 3, 7, 0, tzinfo=dt.UTC), who_waits="we wait for logs"
    )


def test_to_notes_overlays_found_fields_on_base() -> None:
    base = HandoffNotes(summary="old summary", issue="kept issue")
    merged = parse_notes("Summary\n=====\nnew summary\n").to_notes(base)
    assert merged.summary == "new summary"
    assert merged.issue == "kept issue"


@pytest.mark.parametrize(
    "item",
    [
        "Restarted the driver -> Outcome: still hangs",
        "Restarted the driver --> outcome: still hangs",
        "Restarted the driver => Result: still hangs",
        "Restarted the driver \u2014 outcome: still hangs",
        "Restarted the driver \u2192 outcome: still hangs",
        "Restarted the driver | Outcome : still hangs",
        "Restarted the driver (result: still hangs)",
        "Restarted the driver -> (outcome: still hangs)",
        "Restarted the driver outcome:still hangs",
    ],
)
def test_steps_accept_the_usual_arrows_before_the_outcome(item: str) -> None:
    steps, without = parse_steps(f"- {item}")
    assert steps == (StepTried(step="Restarted the driver", outcome="still hangs"),)
    assert without == ()


def test_a_step_keeps_a_greater_than_sign_that_is_no_arrow() -> None:
    steps, _ = parse_steps("Load > 2 GB fails > outcome: same timeout")
    assert steps == (StepTried(step="Load > 2 GB fails >", outcome="same timeout"),)


# Each of these made the old patterns backtrack for seconds to hours: whitespace, colons and
# brackets that several parts of a pattern could take, or words that could be split many ways.
HOSTILE_LINES = {
    "spaces": " " * 50_000 + "x",
    "spaces then a colon": " " * 40_000 + "x?" + " " * 40_000 + ":",
    "colons": ":" * 50_000,
    "angle brackets": "<" * 50_000 + "x",
    "words": "a " * 25_000 + "!",
    "words before a colon": "a " * 25_000 + "? :" + " >" * 10_000,
    "dashes before no outcome": "step " + "-" * 50_000 + " x",
    "spaces before no outcome": "step" + " " * 50_000 + "(outcome",
    "who waits and spaces": "who waits" + " " * 50_000 + "x",
    "zone-like slashes": "a/" * 25_000 + "!",
    "placeholders": "_<" + ">_ " * 16_000 + "x",
}


@pytest.mark.timeout(5)
@pytest.mark.parametrize(
    "heading", ["Summary", "Steps tried", "Next customer contact", "Checklist"]
)
@pytest.mark.parametrize("line", HOSTILE_LINES.values(), ids=HOSTILE_LINES.keys())
def test_hostile_pasted_lines_are_read_in_linear_time(heading: str, line: str) -> None:
    parsed = parse_notes(f"{heading}\n{line}\nIssue\nStill read after it\n", zone_name="Etc/UTC")
    assert parsed.issue == "Still read after it"
    assert not parsed.truncated
    parse_steps(line)
    parse_items(line)


def test_a_long_line_after_a_heading_is_still_that_section() -> None:
    long_summary = "The nightly load fails at the copy step; " * 100
    parsed = parse_notes(f"Summary: {long_summary}\nIssue: loads fail\n")
    assert parsed.summary == long_summary.strip()
    assert parsed.issue == "loads fail"


def test_a_line_with_a_very_long_head_is_text_not_a_heading() -> None:
    # All its words could form a heading name, but none is that long; it stays in the summary.
    line = "Research " + "and more research " * 20 + ": none"
    parsed = parse_notes(f"Summary\n{line}\n")
    assert parsed.summary == line
    assert parsed.research == ()


def test_only_the_first_max_notes_chars_are_read_cut_at_a_line_break() -> None:
    start = "Summary\nfine\nIssue\n"
    filler = "y" * 99 + "\n"
    text = start + filler * ((MAX_NOTES_CHARS - len(start) - 10) // len(filler))
    text += "x" * (MAX_NOTES_CHARS - 10 - len(text)) + "\n"
    # This line straddles the limit: cut in the middle it would read as "Blockers: wai".
    text += "Blockers: waiting for approval\nResearch\n- kb\n"
    parsed = parse_notes(text)
    assert parsed.truncated
    assert parsed.summary == "fine"
    assert parsed.blockers is None
    assert parsed.research == ()
    assert {"blockers", "research"} <= set(parsed.missing)


def test_notes_just_within_the_limit_are_read_whole() -> None:
    text = (
        "Summary\n"
        + "y" * (MAX_NOTES_CHARS - len("Summary\n\nBlockers: none"))
        + "\nBlockers: none"
    )
    assert len(text) == MAX_NOTES_CHARS
    parsed = parse_notes(text)
    assert not parsed.truncated
    assert parsed.blockers == "none"
