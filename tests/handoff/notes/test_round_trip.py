"""The notes text, written by the bot and pasted back, read as it was written (R-NOTES)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from handoff.models import (
    Case,
    CaseStatus,
    Checklist,
    HandoffNotes,
    NextContact,
    PendingOn,
    Severity,
    StepTried,
    SupportPlan,
)
from handoff.notes.parser import parse_notes
from handoff.notes.template import ASKED_FIELDS, OUTCOME_SEPARATOR, render_notes
from i18n.languages import LANGUAGES

# --- the round trip, as a property -------------------------------------------------------------
#
# Generated notes are rendered as the bot writes them, pasted back and read: every field must come
# back as it was. Free text is made of words, among them ones that look like the template's own
# (arrows, "Outcome:", times, zone names, bullets, heading words). A line that on its own, in a
# free-text section, is read as something else (a template heading, a checklist question, an
# underline, a placeholder) is not generated: an engineer who writes one means that, and reading
# headings without underlines has that price (see the parser's module doc).

_WORD_CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "\u00e4\u00e9\u00df\u00f8\u4e2d-_.,;:!?()[]/'\"#*+=<>&%@\u2026"
)
_TEMPLATE_LOOKALIKES = (
    "->",
    "=>",
    "\u2192",
    "Outcome:",
    "result:",
    "(",
    ")",
    "UTC+02:00",
    "2026-06-03",
    "09:00",
    "Europe/Berlin",
    "Research",
    "summary",
    "Reason",
    "REASON:",
    "yes",
    "No",
    "PG",
    "-",
    "*",
    "1.",
    "#",
    "===",
    "\u2026",
    ">",
    "Next",
    "steps",
    "Customer",
    "MSFT:",
    "?",
)
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Etc/UTC")


def _reads_as_text(line: str) -> bool:
    return parse_notes(f"SLA urgency\n{line}\n").sla_urgency == line


def _reads_as_item(item: str) -> bool:
    return parse_notes(f"Research:\n- {item}\n").research == (item,) and parse_notes(
        f"Next steps:\nMSFT:\n1. {item}\n"
    ).next_steps_us == (item,)


_word = st.one_of(
    st.text(alphabet=_WORD_CHARS, min_size=1, max_size=10), st.sampled_from(_TEMPLATE_LOOKALIKES)
)
_line = st.lists(_word, min_size=1, max_size=8).map(" ".join)
text_lines = _line.filter(_reads_as_text)
items = _line.filter(_reads_as_item)
# A checklist answer is one line; the template's "<Reason for Critsit:>" bracket is no part of it.
answers = text_lines.filter(lambda line: not line.endswith(">"))


@st.composite
def free_text(draw: st.DrawFn) -> str:
    """Paragraphs of lines: the parser reads a run of blank lines as one, so one is written."""
    lines = draw(st.lists(text_lines, min_size=1, max_size=4))
    kept: list[str] = []
    for number, line in enumerate(lines):
        if number and draw(st.booleans()):
            kept.append("")
        kept.append(line)
    return "\n".join(kept)


@st.composite
def steps_tried(draw: st.DrawFn) -> StepTried:
    step, outcome = draw(items), draw(items)
    # The line as the bot writes it must read as one item (not a placeholder); a step that holds
    # the bot's own separator could not be told from its outcome.
    assume(_reads_as_item(f"{step} -> Outcome: {outcome}") and OUTCOME_SEPARATOR not in step)
    return StepTried(step=step, outcome=outcome)


_minutes = st.integers(min_value=0, max_value=100 * 366 * 24 * 60)
contacts = st.builds(
    NextContact,
    at=_minutes.map(lambda m: dt.datetime(2000, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=m)),
    who_waits=text_lines,
)
checklists = st.builds(
    Checklist,
    customer_reachable=st.none() | st.booleans(),
    waiting_for_rca=st.none() | st.booleans(),
    accepts_english=st.none() | st.booleans(),
    pending_on=st.none() | st.sampled_from(PendingOn),
    icm_id=st.none() | answers,
    critsit_reason=st.none() | answers,
)
notes_strategy = st.builds(
    HandoffNotes,
    summary=st.just("") | free_text(),
    reason=st.none() | free_text(),
    issue=st.just("") | free_text(),
    steps_tried=st.lists(steps_tried(), max_size=3).map(tuple),
    next_steps_customer=st.lists(items, max_size=3).map(tuple),
    next_steps_us=st.lists(items, max_size=3).map(tuple),
    icm_or_partner_ticket=st.none() | free_text(),
    research=st.lists(items, max_size=3).map(tuple),
    checklist=checklists,
    next_customer_contact=st.none() | contacts,
    root_cause=st.none() | free_text(),
    blockers=st.none() | free_text(),
    sla_urgency=st.none() | free_text(),
    questions_answered=st.lists(items, max_size=3).map(tuple),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(
    notes=notes_strategy,
    pass_to=st.none() | st.from_regex(r"[A-Z][A-Z0-9_]{0,15}", fullmatch=True),
    reason=st.none() | free_text(),
    language=st.none() | text_lines,
    customer_language=st.sampled_from(sorted(LANGUAGES)),
    status=st.sampled_from(CaseStatus),
    zone=st.sampled_from(ZONES),
)
def test_every_field_the_bot_writes_into_the_notes_is_read_back(
    notes: HandoffNotes,
    pass_to: str | None,
    reason: str | None,
    language: str | None,
    customer_language: str,
    status: CaseStatus,
    zone: str,
) -> None:
    case = Case(
        number="2311230040001234",
        severity=Severity.A,
        is_24x7=True,
        plan=SupportPlan.PREMIER,
        product_skill="HDInsight",
        customer_region="US",
        customer_timezone=zone,
        status=status,
        language_needs=language,
        customer_language=customer_language,
    )
    text = render_notes(notes, case, zone_name=zone, pass_to=pass_to, reason=reason)
    parsed = parse_notes(text)
    assert parsed.to_notes() == notes
    empty = HandoffNotes()
    assert parsed.missing == tuple(
        name for name in ASKED_FIELDS if getattr(notes, name) == getattr(empty, name)
    )
    assert (parsed.pass_to, parsed.handoff_reason, parsed.language_needs, parsed.status) == (
        pass_to,
        reason,
        language,
        status,
    )
    # Said in the Language Needs only when it is not English, the default.
    assert (parsed.customer_language or "en") == customer_language


# Lines as engineers write them, read back whatever the generators above would keep: the
# property filters its own lines through the parser, so a line misread on its own would never
# be generated.
REAL_LINES = [
    "Customer to upload the HAR file and the gateway logs",
    "We will ask PG about the quota service (ICM 123456789)",
    "US SE: review the autoscaler logs before 10:00 PST",
    "Restarted the head node, no change",
    "Next steps depend on the RCA",
    "Summary of the call: the customer agrees to a restart tonight",
    "https://example.invalid/kb/autoscale?id=42#fix",
    "Status: waiting on customer",
    "N/A",
    # Not here: a line that starts with one of seed 001's keys ("Reason: …", "Pass to: …") is
    # read as that key wherever it stands, as seed 001's list has no headings around it.
]


@pytest.mark.parametrize("line", REAL_LINES)
def test_a_real_line_reads_back_as_written(line: str) -> None:
    assert _reads_as_text(line), f"free text: {line!r}"
    assert _reads_as_item(line), f"a list item: {line!r}"


@pytest.mark.parametrize(
    ("language", "needs", "written"),
    [
        ("de", "Japanese speaker", "Customer language: German; Japanese speaker"),
        ("de", None, "Customer language: German"),
        ("en", "Japanese speaker", "Japanese speaker"),
        # Words that would read as another language say English first.
        (
            "en",
            "Customer language: German",
            "Customer language: English; Customer language: German",
        ),
    ],
)
def test_the_notes_say_the_customers_language_in_the_language_needs(
    language: str, needs: str | None, written: str
) -> None:
    case = Case(
        number="2311230040001234",
        severity=Severity.B,
        is_24x7=False,
        plan=SupportPlan.PREMIER,
        product_skill="HDInsight",
        customer_region="US",
        customer_timezone="Etc/UTC",
        language_needs=needs,
        customer_language=language,
    )
    text = render_notes(HandoffNotes(summary="s"), case, zone_name="Etc/UTC")
    assert f"Language Needs\n=============\n{written}\n" in text
    parsed = parse_notes(text)
    assert (parsed.customer_language or "en", parsed.language_needs) == (language, needs)
