"""Hand-over notes as the seed 000 "General Template" text (R-NOTES); notes_parser reads it back.

``render_notes`` writes the notes in the template's sections, order and wording, so the text can
be pasted into the case tool. The fields that only seeds 001 and 003 know get sections in the
same style, placed where a reader of the template expects them, and only when they hold
something: seed 001's PASS TO and REASON (where the case goes and why) and the language the
customer needs come right after the summary, as seed 001 lists them first; then the issue, the
steps tried, the root cause and the case's current status (seed 003), before the next steps.
The template's own sections are always written, since the template says to keep them (except
"ICM or Partner Ticket", which the template says to leave out when there is none).

Every section written here has a heading the parser knows, so the text round-trips: what the
bot writes is what it reads back when the text is pasted again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from i18n.languages import ENGLISH, LANGUAGES, by_name

from ..models import Case, HandoffNotes
from ..schedule import check_zone

UNDERLINE = "============="
OUTCOME_SEPARATOR = " -> Outcome: "
NOTE_FIELDS: tuple[str, ...] = tuple(HandoffNotes.model_fields)
# The fields an engineer writes; answers to the receiving side's questions come later, from
# the card, so nobody is asked for them.
ASKED_FIELDS: tuple[str, ...] = tuple(f for f in NOTE_FIELDS if f != "questions_answered")

# The headings of the sections seeds 001 and 003 add (the parser knows each of them).
PASS_TO = "Pass To"
REASON_FOR_HANDOFF = "Reason for Handoff"
WHY_A_HANDOFF = "Why It Needs a Handoff"
LANGUAGE_NEEDS = "Language Needs"
CURRENT_STATUS = "Current Status"

# The customer's language, said first in the Language Needs section by its English name (the
# notes are English): "Customer language: German; prefers calls in the morning".
CUSTOMER_LANGUAGE = "Customer language"
# No two parts of the pattern take the same characters (pasted text is read in linear time).
_SAYS_LANGUAGE = re.compile(r"\s*customer language\s*:([^;]*)(?:;(.*))?", re.I | re.S)

# The notes show the latest questions the receiving side asked, each cut to a length the case
# tool and the cards can carry; the ones before are counted on a "… N more" line (the history
# has every one).
MAX_ANSWERS_SHOWN = 3
MAX_ANSWER_CHARS = 500
ELLIPSIS = "\u2026"


# --- times ---------------------------------------------------------------------------------------


def _offset_text(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


# The IANA names of UTC itself (not of zones that are at UTC+0 for a season, like London).
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Zulu"})


def format_in_zone(at: datetime, zone_name: str) -> str:
    """``at`` as a reader in ``zone_name`` reads it: "Tue 2026-03-03 09:00 CET (UTC+01:00, …)".

    The abbreviation is what people recognise; the UTC offset and IANA name make the text exact
    and let the parser read it back. Zones whose abbreviation is only a number ("+08") get
    no abbreviation, since the offset already says it.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a time to show must carry a time zone")
    if zone_name in UTC_NAMES:
        # "16:30 UTC (UTC+00:00, UTC)" says it three times; the parser reads a bare UTC.
        return f"{at.astimezone(UTC):%a %Y-%m-%d %H:%M} UTC"
    local = at.astimezone(ZoneInfo(check_zone(zone_name)))
    abbreviation = local.tzname() or ""
    shown = f" {abbreviation}" if abbreviation[:1].isalpha() else ""
    offset = _offset_text(local.utcoffset())
    return f"{local:%a %Y-%m-%d %H:%M}{shown} ({offset}, {zone_name})"


# --- rendering -----------------------------------------------------------------------------------


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Yes" if value else "No")


def _numbered(items: Iterable[str]) -> list[str]:
    return [f"{number}. {item}" for number, item in enumerate(items, start=1)]


def _section(title: str, body: list[str]) -> list[str]:
    return [title, UNDERLINE, *body, ""]


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + ELLIPSIS


def _clip_answered(pair: str) -> str:
    """A "Q: … A: …" pair (service.py writes them) cut so the answer keeps most of the room:
    it is what the next engineer needs; the question is in the history too."""
    question, separator, answer = pair.partition(" A: ")
    if not separator or len(pair) <= MAX_ANSWER_CHARS:
        return _clip(pair, MAX_ANSWER_CHARS)
    question = _clip(question, MAX_ANSWER_CHARS // 3)
    return _clip(f"{question} A: {answer}", MAX_ANSWER_CHARS)


def _answered(questions: tuple[str, ...]) -> list[str]:
    shown = [f"- {_clip_answered(qa)}" for qa in questions[-MAX_ANSWERS_SHOWN:]]
    earlier = len(questions) - MAX_ANSWERS_SHOWN
    more = [f"{ELLIPSIS} {earlier} more questions answered earlier"] if earlier > 0 else []
    return [*more, *shown]


def language_needs_text(case: Case) -> str:
    """The Language Needs section's text: the customer's language, unless it is English, then
    the language needs in the engineer's words. English is said too when the words would
    otherwise read as another language's ("Customer language: …" typed by hand)."""
    needs = (case.language_needs or "").strip()
    language = LANGUAGES.get(case.customer_language, ENGLISH)
    if language is ENGLISH and read_language_needs(needs)[0] is None:
        return needs
    said = f"{CUSTOMER_LANGUAGE}: {language.english_name}"
    return f"{said}; {needs}" if needs else said


def read_language_needs(text: str) -> tuple[str | None, str]:
    """The customer's language (a code of LANGUAGES) and the rest of a Language Needs text, as
    language_needs_text writes it; no language when the text names none we know, and then the
    whole text is the rest."""
    said = _SAYS_LANGUAGE.fullmatch(text)
    code = by_name(said.group(1).strip()) if said else None
    if said is None or code is None:
        return None, text
    return code, (said.group(2) or "").strip()


def _text_section(title: str, value: str | None) -> list[str]:
    """A free-text section, written only when it holds something."""
    text = (value or "").strip()
    return _section(title, [text]) if text else []


def render_notes(
    notes: HandoffNotes,
    case: Case,
    *,
    zone_name: str,
    pass_to: str | None = None,
    reason: str | None = None,
) -> str:
    """The notes as seed 000 template text; the next contact is shown in ``zone_name``.

    ``pass_to`` and ``reason`` are seed 001's PASS TO and REASON: the region the case goes to and
    why it moves (the handoff's own reason; ``notes.reason`` is the justification a handoff
    nobody asked for needs). The case gives its language needs and current status."""
    lines: list[str] = []
    lines += _section("Summary", [notes.summary.strip()] if notes.summary.strip() else [])
    lines += _text_section(PASS_TO, pass_to)
    lines += _text_section(REASON_FOR_HANDOFF, reason)
    lines += _text_section(WHY_A_HANDOFF, notes.reason)
    lines += _text_section(LANGUAGE_NEEDS, language_needs_text(case))
    lines += _text_section("Issue", notes.issue)
    if notes.steps_tried:
        lines += _section(
            "Steps Tried:",
            _numbered(
                f"{s.step.strip()}{OUTCOME_SEPARATOR}{s.outcome.strip()}" for s in notes.steps_tried
            ),
        )
    lines += _text_section("Root Cause", notes.root_cause)
    lines += _section(CURRENT_STATUS, [case.status.value.capitalize()])
    lines += _section("Next Steps:", [])
    lines += ["Cx:", *_numbered(notes.next_steps_customer), ""]
    lines += ["MSFT:", *_numbered(notes.next_steps_us), ""]
    contact = notes.next_customer_contact
    if contact is not None:
        lines += _section(
            "Next Customer Contact:",
            [
                f"When: {format_in_zone(contact.at, zone_name)}",
                f"Who waits for whom: {contact.who_waits}",
            ],
        )
    lines += _text_section("Blockers / Approvals", notes.blockers)
    lines += _text_section("ICM or Partner Ticket", notes.icm_or_partner_ticket)
    lines += _section("Research:", ["", *(f"- {item}" for item in notes.research)])
    checklist = notes.checklist
    # The case record already knows whom the case waits on; the notes need not repeat it.
    pending = checklist.pending_on or case.pending_on
    lines += _section(
        "Ticket's checklist",
        [
            "",
            f"Customer Reachable?: {_yes_no(checklist.customer_reachable)}",
            f"Waiting for RCA?: {_yes_no(checklist.waiting_for_rca)}",
            f"Customer accept English Support?: {_yes_no(checklist.accepts_english)}",
            f"Now the issue is pending on?: {pending.value if pending else ''}",
            f"IcM ID?: {checklist.icm_id or ''}",
            f"Reason for Critsit: {checklist.critsit_reason or ''}",
        ],
    )
    lines += _text_section("SLA Urgency", notes.sla_urgency)
    if notes.questions_answered:
        lines += _section("Questions Answered", _answered(notes.questions_answered))
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"
