"""Vague or incomplete hand-over notes are refused with what to add (R-QUALITY, R-NOTES)."""

import datetime as dt

import pytest

from handoff.models import (
    Case,
    Checklist,
    HandoffNotes,
    NextContact,
    Severity,
    StepTried,
    SupportPlan,
)
from handoff.notes.quality import NoteProblem, check_notes, is_vague, names_an_owner


def make_case(severity: Severity = Severity.A, is_24x7: bool = True) -> Case:
    return Case(
        number="123456789012",
        severity=severity,
        is_24x7=is_24x7,
        plan=SupportPlan.PREMIER,
        product_skill="Data Pipelines",
        customer_region="EMEA",
        customer_timezone="Europe/Berlin",
    )


GOOD = HandoffNotes(
    summary=(
        "Nightly pipeline fails with a gateway timeout since Monday; we raised the timeout and "
        "the failure moved to the copy step. Suspect the firewall drops idle connections."
    ),
    steps_tried=(
        StepTried(step="Raised the gateway timeout to 10 minutes", outcome="Copy step now fails"),
    ),
    next_steps_customer=("Customer uploads the firewall logs for the last run",),
    next_steps_us=("US SE: review the firewall logs", "We will reproduce with a test pipeline"),
    next_customer_contact=NextContact(
        at=dt.datetime(2026, 6, 3, 7, 0, tzinfo=dt.UTC), who_waits="Customer waits for us"
    ),
    checklist=Checklist(customer_reachable=True, critsit_reason="Production loads blocked"),
)


def fields(problems: list[NoteProblem]) -> list[str]:
    return [problem.field for problem in problems]


@pytest.mark.parametrize(
    ("severity", "is_24x7"),
    [(Severity.A, True), (Severity.A, False), (Severity.B, True), (Severity.C, False)],
)
def test_good_notes_pass(severity: Severity, is_24x7: bool) -> None:
    assert check_notes(GOOD, make_case(severity, is_24x7)) == []


@pytest.mark.parametrize(
    "summary",
    [
        "troubleshooting ongoing",
        "Troubleshooting ongoing.",
        "  TBD ",
        "n/a",
        "N/A",
        "see above",
        "Same as before!",
        "working on it...",
        "---",
    ],
)
def test_vague_summary_is_refused(summary: str) -> None:
    problems = check_notes(GOOD.model_copy(update={"summary": summary}), make_case())
    assert fields(problems) == ["summary"]
    assert "does not tell the next engineer anything" in problems[0].message


def test_short_summary_is_refused_with_minimum() -> None:
    problems = check_notes(GOOD.model_copy(update={"summary": "Pipeline broken"}), make_case())
    assert fields(problems) == ["summary"]
    assert "too short" in problems[0].message


def test_vague_phrase_inside_a_good_sentence_is_fine() -> None:
    # Issue 15: the sentence also says what was done and where it stands, as a summary must.
    summary = (
        "See above the firewall log excerpt: port 443 is blocked, so we asked the network team "
        "to open it; troubleshooting ongoing with them."
    )
    assert check_notes(GOOD.model_copy(update={"summary": summary}), make_case()) == []


def test_blank_summary_is_refused() -> None:
    problems = check_notes(GOOD.model_copy(update={"summary": "   "}), make_case())
    assert fields(problems) == ["summary"]
    assert problems[0].message.startswith("Add a summary")


@pytest.mark.parametrize(
    "step",
    [
        "We will check the logs",
        "we'll check the logs",
        "I'll call the customer at 9",
        "US SE: review the logs",
        "- EMEA SE to review the logs",
        "1. APAC team will reproduce",
        "Next SE: join the call",
        "PG to confirm the fix",
        "Owner: review the logs",
        "Review the logs (owner: IST SE)",
        "Review the logs @oncall",
        "Case owner reruns the pipeline",
        "MSFT: share the hotfix",
        "SME reviews the design",
    ],
)
def test_next_step_with_owner_passes(step: str) -> None:
    assert names_an_owner(step)
    assert check_notes(GOOD.model_copy(update={"next_steps_us": (step,)}), make_case()) == []


@pytest.mark.parametrize(
    "step", ["Check the logs", "Review firewall config", "Follow up with customer tomorrow"]
)
def test_next_step_without_owner_is_refused(step: str) -> None:
    problems = check_notes(GOOD.model_copy(update={"next_steps_us": (step,)}), make_case())
    assert fields(problems) == ["next_steps_us"]
    assert "has no owner" in problems[0].message
    assert step in problems[0].message


@pytest.mark.parametrize("step", ["TBD", "continue troubleshooting", "follow up"])
def test_vague_next_step_is_refused(step: str) -> None:
    problems = check_notes(GOOD.model_copy(update={"next_steps_us": (step,)}), make_case())
    assert fields(problems) == ["next_steps_us"]
    assert "is vague" in problems[0].message


def test_each_bad_next_step_is_named() -> None:
    steps = ("We will check logs", "Check the gateway", "TBD")
    problems = check_notes(GOOD.model_copy(update={"next_steps_us": steps}), make_case())
    assert [p.message.split(" (")[0] for p in problems] == [
        "Next step for us 2",
        "Next step for us 3",
    ]


BASE_REQUIRED = ["summary", "next_steps_us"]
CUSTOMER_AND_CONTACT = ["next_steps_customer", "next_customer_contact"]


@pytest.mark.parametrize(
    ("severity", "is_24x7", "expected"),
    [
        (
            Severity.A,
            True,
            [*BASE_REQUIRED, *CUSTOMER_AND_CONTACT, "steps_tried", "checklist", "checklist"],
        ),
        (Severity.A, False, [*BASE_REQUIRED, *CUSTOMER_AND_CONTACT, "steps_tried"]),
        (Severity.B, True, [*BASE_REQUIRED, *CUSTOMER_AND_CONTACT, "steps_tried"]),
        (Severity.B, False, [*BASE_REQUIRED, *CUSTOMER_AND_CONTACT]),
        (Severity.C, True, [*BASE_REQUIRED, "next_customer_contact", "steps_tried"]),
        (Severity.C, False, BASE_REQUIRED),
    ],
)
def test_required_fields_by_severity(
    severity: Severity, is_24x7: bool, expected: list[str]
) -> None:
    assert fields(check_notes(HandoffNotes(), make_case(severity, is_24x7))) == expected


def test_critical_case_without_steps_tried_says_so() -> None:
    problems = check_notes(GOOD.model_copy(update={"steps_tried": ()}), make_case())
    assert fields(problems) == ["steps_tried"]
    assert "Sev A 24x7 case needs the steps already tried" in problems[0].message


@pytest.mark.parametrize("outcome", [" ", "n/a", "TBD", "?"])
def test_step_with_empty_outcome_is_refused(outcome: str) -> None:
    steps = (StepTried(step="Restarted the gateway", outcome=outcome),)
    problems = check_notes(GOOD.model_copy(update={"steps_tried": steps}), make_case(Severity.C))
    assert fields(problems) == ["steps_tried"]
    assert "Step tried 1 ('Restarted the gateway') has no outcome" in problems[0].message


def test_vague_who_waits_is_refused() -> None:
    contact = NextContact(at=dt.datetime(2026, 6, 3, 7, 0, tzinfo=dt.UTC), who_waits="tbd")
    problems = check_notes(
        GOOD.model_copy(update={"next_customer_contact": contact}), make_case(Severity.C, False)
    )
    assert fields(problems) == ["next_customer_contact"]


def test_critical_checklist_needs_critsit_reason_and_reachability() -> None:
    problems = check_notes(GOOD.model_copy(update={"checklist": Checklist()}), make_case())
    assert fields(problems) == ["checklist", "checklist"]
    assert "reason for the critsit" in problems[0].message
    assert "Customer reachable?" in problems[1].message


@pytest.mark.parametrize(
    ("text", "vague"),
    [("n/a", True), ("", True), ("none.", True), ("None of the nodes respond", False)],
)
def test_is_vague_matches_whole_text(text: str, vague: bool) -> None:
    assert is_vague(text) is vague


# Issue 15 tightened the summary rule; this example said only the issue, so it says more now.
NIGHTLY_LOAD = (
    "Nightly load fails with a gateway timeout after the firewall change; we reverted the "
    "change and the load ran, so we suspect the new firewall rule."
)


def test_a_handoff_nobody_asked_for_needs_its_reason_in_the_notes() -> None:
    notes = HandoffNotes(
        summary=NIGHTLY_LOAD,
        next_steps_us=("US SE: review the gateway logs",),
    )
    case = Case(
        number="2311230040001234",
        severity=Severity.C,
        is_24x7=False,
        plan=SupportPlan.PROFESSIONAL,
        product_skill="Data Pipelines",
        customer_region="US",
        customer_timezone="America/New_York",
    )
    assert [p.field for p in check_notes(notes, case, reason_required=True)] == ["reason"]
    assert check_notes(notes, case, reason_required=False) == []
    explained = notes.model_copy(update={"reason": "The customer moves the load to US hours"})
    assert check_notes(explained, case, reason_required=True) == []


@pytest.mark.parametrize(
    ("outcome", "refused"), [("no change", False), ("None", False), ("TBD", True)]
)
def test_an_outcome_may_say_the_step_did_not_help_but_not_nothing(
    outcome: str, refused: bool
) -> None:
    notes = HandoffNotes(
        summary=NIGHTLY_LOAD,
        steps_tried=(StepTried(step="Restarted the gateway", outcome=outcome),),
        next_steps_us=("US SE: review the gateway logs",),
    )
    case = Case(
        number="2311230040001234",
        severity=Severity.B,
        is_24x7=True,
        plan=SupportPlan.PREMIER,
        product_skill="Data Pipelines",
        customer_region="US",
        customer_timezone="America/New_York",
    )
    fields = [p.field for p in check_notes(notes, case)]
    assert ("steps_tried" in fields) is refused


# --- what a useful summary and critsit reason hold (seed 000's General Template) ---------------
#
# The template asks the summary for "the full issue at a glance", "what you and/or the customer
# have just done" and "your current conclusions"; its "<Reason for Critsit:>" is a reason in
# words. These are written the way the seeds' engineers write.

USEFUL_SUMMARIES = [
    GOOD.summary,
    "Spark jobs fail with OutOfMemory on the executors since Monday; we raised the executor "
    "memory to 8 GB, which did not help, so we suspect the shuffle partitions.",
    "Customer cannot sign in to the portal since the certificate rotation; we re-imported the "
    "certificate and sign-in works again. Waiting for the customer to confirm.",
    "Autoscale stops at 20 nodes since the Monday upgrade; raising the core quota made no "
    "difference, PG is checking the quota service.",
    "Queries on the sales pool run 5x slower after the index rebuild. The customer rebuilt the "
    "statistics; still slow, the plans point to a missing partition filter.",
    # Two of the three parts are enough: reading words, the check misses one now and then.
    "Spark jobs fail with OutOfMemory on the executors; we restarted the cluster.",
    "Spark jobs fail with OutOfMemory on the executors, probably the shuffle partitions.",
    "Spark jobs fail on the executors. We set spark.executor.memory to 8g but it still fails.",
    "SSH logins to the head node fail with 'invalid key'. Reproduced in lab with the customer's "
    "key; key format is wrong (OpenSSH vs PEM).",
    "Gateway returns 502 for uploads over 100 MB. Gateway logs collected; awaiting PG analysis.",
    "HBase region servers run out of heap nightly. Heap dump analysed: memstore grows "
    "unbounded. PG engaged via ICM.",
    "Private endpoint resolves to the public IP. NSG rules look fine. Need to check DNS next.",
]


@pytest.mark.parametrize("summary", USEFUL_SUMMARIES)
def test_a_summary_with_the_issue_what_was_done_and_the_conclusion_passes(summary: str) -> None:
    notes = GOOD.model_copy(update={"summary": summary})
    assert check_notes(notes, make_case()) == []


@pytest.mark.parametrize(
    ("summary", "lacks"),
    [
        (
            "Issue with Spark. Still looking into it.",
            ["what the issue is", "what was just done", "your current conclusion"],
        ),
        (
            "Spark jobs fail with OutOfMemory on the executors since Monday.",
            ["what was just done", "your current conclusion"],
        ),
        (
            "Problem with the customer's cluster: we checked it, still investigating.",
            ["what the issue is", "your current conclusion"],
        ),
    ],
)
def test_a_summary_missing_part_of_the_template_says_what_to_add(
    summary: str, lacks: list[str]
) -> None:
    [problem] = check_notes(GOOD.model_copy(update={"summary": summary}), make_case())
    assert problem.field == "summary"
    assert problem.message.startswith(f"The summary {summary[:60]!r}")
    said = problem.message.split(". Add ")[0]
    for part in ("what the issue is", "what was just done", "your current conclusion"):
        assert (part in said) is (part in lacks), f"{part!r} in {problem.message!r}"
    assert " Add " in problem.message, "it says what to add"


@pytest.mark.parametrize(
    "reason", ["x", "X.", "asdf", "Sev A", "critical", "urgent!!", "tbd", "high priority", "?"]
)
def test_a_critsit_reason_without_real_words_is_refused_on_a_sev_a_case(reason: str) -> None:
    checklist = GOOD.checklist.model_copy(update={"critsit_reason": reason})
    problems = check_notes(GOOD.model_copy(update={"checklist": checklist}), make_case())
    assert fields(problems) == ["checklist"]
    assert f"The reason for the critsit ({reason!r})" in problems[0].message
    assert "e.g. 'Production loads blocked for all stores'" in problems[0].message


@pytest.mark.parametrize(
    "reason",
    [
        "Production loads blocked",
        "Outage",
        "Payroll",
        "Prod down",
        "Customer is down",
        "Payroll run blocked for 2,000 employees",
        "Production outage for all regions",
    ],
)
def test_a_critsit_reason_in_real_words_passes(reason: str) -> None:
    checklist = GOOD.checklist.model_copy(update={"critsit_reason": reason})
    assert check_notes(GOOD.model_copy(update={"checklist": checklist}), make_case()) == []
