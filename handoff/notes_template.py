"""Hand-over notes as the seed 000 "General Template" text, both ways (R-NOTES).

``render_notes`` writes the notes in the template's sections, order and wording, so the text can
be pasted into the case tool. The fields that only seeds 001 and 003 know (issue, steps tried,
root cause, next customer contact, blockers, SLA urgency) get sections in the same style, placed
where a reader of the template expects them, and only when they hold something; the template's
own sections are always written, since the template says to keep them (except "ICM or Partner
Ticket", which the template says to leave out when there is none).

``parse_notes`` reads text pasted in that template back, so the dialog asks only for what the
text lacks. It is tolerant on purpose, since engineers paste from many editors: headings in any
case, with or without a trailing colon, markdown ``#``/``**`` or the seed's ``\\=====``
underlines; Windows or old-Mac line endings; extra blank lines; list items with ``-``, ``*``,
``•`` or ``1.`` / ``1)``. A line that is only a known heading name (optionally followed by a
colon and text) starts that section; this means a content line such as "Research: none" inside
the summary starts the Research section, the price of accepting headings without underlines.

Pasted text comes from anyone, so reading it costs time in proportion to its length: no two parts
of a pattern can take the same characters (so a line that does not match fails at once rather
than after trying every split), whitespace is collapsed before a line is matched, and two caps
bound the rest. Only the first ``MAX_NOTES_CHARS`` characters are read, cut
back to the last line break inside them so no line is read in half; ``ParsedNotes.truncated`` then
says so, and what lay beyond counts as not written. A line whose part before the first colon is
longer than ``MAX_HEADING_CHARS`` is never a heading or a checklist key, only text of its section.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from .models import Case, Checklist, HandoffNotes, NextContact, PendingOn, StepTried
from .schedule import check_zone

UNDERLINE = "============="
OUTCOME_SEPARATOR = " -> Outcome: "
NOTE_FIELDS: tuple[str, ...] = tuple(HandoffNotes.model_fields)
# The fields an engineer writes; answers to the receiving side's questions come later, from
# the card, so nobody is asked for them.
ASKED_FIELDS: tuple[str, ...] = tuple(f for f in NOTE_FIELDS if f != "questions_answered")


# --- times ---------------------------------------------------------------------------------------


def _offset_text(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def format_in_zone(at: datetime, zone_name: str) -> str:
    """``at`` as a reader in ``zone_name`` reads it: "Tue 2026-03-03 09:00 CET (UTC+01:00, …)".

    The abbreviation is what people recognise; the UTC offset and IANA name make the text exact
    and let ``parse_notes`` read it back. Zones whose abbreviation is only a number ("+08") get
    no abbreviation, since the offset already says it.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a time to show must carry a time zone")
    local = at.astimezone(ZoneInfo(check_zone(zone_name)))
    abbreviation = local.tzname() or ""
    shown = f" {abbreviation}" if abbreviation[:1].isalpha() else ""
    offset = _offset_text(local.utcoffset())
    return f"{local:%a %Y-%m-%d %H:%M}{shown} ({offset}, {zone_name})"


_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})")
_OFFSET = re.compile(r"UTC\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
_ZONE_NAME = re.compile(r"\b([A-Za-z]+(?:/[A-Za-z0-9_+\-]+)+)\b")


def _read_time(text: str, default_zone: str | None) -> datetime | None:
    found = _DATE_TIME.search(text)
    if found is None:
        return None
    day, hour, minute = found.groups()
    wall = datetime.fromisoformat(f"{day}T{int(hour):02d}:{minute}")
    # An explicit offset pins the instant even across a DST overlap, so it wins over a name.
    offset = _OFFSET.search(text, found.end())
    if offset is not None:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        return wall.replace(tzinfo=timezone(-delta if sign == "-" else delta))
    for candidate in _ZONE_NAME.findall(text):
        try:
            return wall.replace(tzinfo=ZoneInfo(check_zone(candidate)))
        except ValueError:
            continue
    if default_zone is not None:
        return wall.replace(tzinfo=ZoneInfo(check_zone(default_zone)))
    # A time without any zone would be a guess; the dialog asks for it instead.
    return None


# --- rendering -----------------------------------------------------------------------------------


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("Yes" if value else "No")


def _numbered(items: Iterable[str]) -> list[str]:
    return [f"{number}. {item}" for number, item in enumerate(items, start=1)]


def _section(title: str, body: list[str]) -> list[str]:
    return [title, UNDERLINE, *body, ""]


def render_notes(notes: HandoffNotes, case: Case, *, zone_name: str) -> str:
    """The notes as seed 000 template text; the next contact is shown in ``zone_name``."""
    lines: list[str] = []
    lines += _section("Summary", [notes.summary.strip()] if notes.summary.strip() else [])
    if notes.reason:
        lines += _section("Reason for Handoff", [notes.reason.strip()])
    if notes.issue.strip():
        lines += _section("Issue", [notes.issue.strip()])
    if notes.steps_tried:
        lines += _section(
            "Steps Tried:",
            _numbered(
                f"{s.step.strip()}{OUTCOME_SEPARATOR}{s.outcome.strip()}" for s in notes.steps_tried
            ),
        )
    if notes.root_cause:
        lines += _section("Root Cause", [notes.root_cause.strip()])
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
    if notes.blockers:
        lines += _section("Blockers / Approvals", [notes.blockers.strip()])
    if notes.icm_or_partner_ticket:
        lines += _section("ICM or Partner Ticket", [notes.icm_or_partner_ticket.strip()])
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
    if notes.sla_urgency:
        lines += _section("SLA Urgency", [notes.sla_urgency.strip()])
    if notes.questions_answered:
        lines += _section("Questions Answered", [f"- {qa}" for qa in notes.questions_answered])
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"


# --- parsing -------------------------------------------------------------------------------------

# Normalised heading text -> the section it starts. "next_steps" only groups Cx and MSFT.
_HEADINGS: dict[str, str] = {
    "summary": "summary",
    "issue": "issue",
    "reason": "reason",
    "reason for handoff": "reason",
    "steps tried": "steps_tried",
    "steps already taken": "steps_tried",
    "steps taken": "steps_tried",
    "root cause": "root_cause",
    "next steps": "next_steps",
    "cx": "next_steps_customer",
    "customer": "next_steps_customer",
    "msft": "next_steps_us",
    "microsoft": "next_steps_us",
    "next customer contact": "next_customer_contact",
    "blockers": "blockers",
    "blockers approvals": "blockers",
    "icm or partner ticket": "icm_or_partner_ticket",
    "partner ticket": "icm_or_partner_ticket",
    "research": "research",
    "attachments": "research",
    "tickets checklist": "checklist",
    "checklist": "checklist",
    "sla urgency": "sla_urgency",
    "urgency": "sla_urgency",
    "questions answered": "questions_answered",
}

_NEXT_STEPS_ONLY = frozenset({"customer", "microsoft"})
_NEXT_STEPS_SECTIONS = frozenset({"next_steps", "next_steps_customer", "next_steps_us"})

# Normalised checklist key -> Checklist field.
_CHECKLIST_KEYS: dict[str, str] = {
    "customer reachable": "customer_reachable",
    "waiting for rca": "waiting_for_rca",
    "customer accept english support": "accepts_english",
    "customer accepts english support": "accepts_english",
    "now the issue is pending on": "pending_on",
    "pending on": "pending_on",
    "icm id": "icm_id",
    "reason for critsit": "critsit_reason",
}

# Teams caps a message near 28 KB, so only a broken or hostile client sends more than this.
MAX_NOTES_CHARS = 100_000
# Far longer than any heading or checklist question ("Customer accept English Support?").
MAX_HEADING_CHARS = 200

# Both are matched against the part of a line before its first colon, whitespace collapsed to
# single spaces. Words are separated by exactly one space and nothing else in a pattern takes a
# letter, so there is only one way to match and a line that fails does so in linear time.
_HEADING_HEAD = re.compile(
    r"[#*_ ]*(?P<name>[A-Za-z][A-Za-z'\u2019/]*(?: [A-Za-z'\u2019/]+)*)[*_ ]*"
)
_KEY_HEAD = re.compile(r"[<*_ ]*(?P<key>[A-Za-z][A-Za-z']*(?: [A-Za-z']+)*) ?\??")
_UNDERLINE_LINE = re.compile(r"^\s*\\?[=\-]{3,}\s*$")
_BULLET = re.compile(r"^\s*(?:[-*\u2022\u00b7]|\d{1,3}[.)])\s+")
# HTML the wiki wraps the template in, and the template's own "_<placeholder>_" lines, which
# mean "nothing written here" even when numbered like a list item.
_NOISE_LINE = re.compile(
    r"^\s*(?:</?(?:details|summary|br|center)\b[^>]*>\s*)+$"
    r"|^\s*(?:(?:[-*\u2022\u00b7]|\d{1,3}[.)])\s+)?_<.*>_\s*$",
    re.IGNORECASE,
)
# Matched against a line with its whitespace collapsed, so each optional space is one character.
_WHO_WAITS = re.compile(r"who waits(?: for whom)? ?\?? ?:(.*)", re.IGNORECASE)
_WHEN = re.compile(r"^\s*when\s*:\s*", re.IGNORECASE)
# Only the word is searched for; the arrow or bracket before it is peeled off by hand, since a
# pattern allowing optional runs of spaces and dashes before the word backtracks over them.
_OUTCOME_WORD = re.compile(r"\b(?:outcome|result)\s*:\s*", re.IGNORECASE)
_ARROW_DASHES = "-=\u2013\u2014"


def _collapsed(text: str) -> str:
    return " ".join(text.split())


def _normalised(text: str) -> str:
    without_quotes = text.replace("'", "").replace("\u2019", "")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", without_quotes.lower()).split())


def _yes_no_value(text: str) -> bool | None:
    word = _normalised(text)
    if word in {"yes", "y", "true"}:
        return True
    if word in {"no", "n", "false"}:
        return False
    # Blank, or the template's unfilled "Yes/No".
    return None


def _pending_value(text: str) -> PendingOn | None:
    word = _normalised(text)
    for member in PendingOn:
        if word == member.value.lower():
            return member
    return None


def _strip_bullet(line: str) -> str:
    return _BULLET.sub("", line, count=1).strip()


def _text(lines: list[str]) -> str | None:
    kept: list[str] = []
    for line in lines:
        # Runs of blank lines become one, so a generous paste reads like a tidy one.
        if not line.strip() and (not kept or not kept[-1]):
            continue
        kept.append(line.rstrip())
    text = "\n".join(kept).strip()
    return text or None


def _items(lines: list[str]) -> tuple[str, ...]:
    return tuple(item for item in (_strip_bullet(line) for line in lines) if item)


@dataclass(frozen=True)
class ParsedNotes:
    """What pasted template text held; None (or empty) for what it did not.

    ``missing`` lists the HandoffNotes field names not found, so the dialog asks only for those.
    Steps tried without an outcome are kept apart in ``steps_without_outcome`` (a step needs an
    outcome), and then ``steps_tried`` counts as missing.
    """

    summary: str | None = None
    reason: str | None = None
    issue: str | None = None
    steps_tried: tuple[StepTried, ...] = ()
    steps_without_outcome: tuple[str, ...] = ()
    next_steps_customer: tuple[str, ...] = ()
    next_steps_us: tuple[str, ...] = ()
    icm_or_partner_ticket: str | None = None
    research: tuple[str, ...] = ()
    checklist: Checklist | None = None
    next_customer_contact: NextContact | None = None
    root_cause: str | None = None
    blockers: str | None = None
    sla_urgency: str | None = None
    questions_answered: tuple[str, ...] = ()
    missing: tuple[str, ...] = field(default=())
    # The text was longer than MAX_NOTES_CHARS and only its beginning was read.
    truncated: bool = False

    def found(self) -> dict[str, Any]:
        """The fields found, by HandoffNotes field name."""
        values: dict[str, Any] = {}
        for name in NOTE_FIELDS:
            value = getattr(self, name)
            if value is not None and value != ():
                values[name] = value
        return values

    def to_notes(self, base: HandoffNotes | None = None) -> HandoffNotes:
        """``base`` (empty notes by default) with every found field replaced by what was found."""
        start = base if base is not None else HandoffNotes()
        return HandoffNotes.model_validate({**start.model_dump(), **self.found()})


def _without_arrow(step: str) -> str:
    """``step`` without what leads to its outcome: "(", "->", "=>", "--", "\u2192" or "|"."""
    step = step.removesuffix("(").rstrip()
    bare = step.removesuffix(">")
    if bare.endswith(tuple(_ARROW_DASHES)):
        step = bare.rstrip(_ARROW_DASHES)
    elif step.endswith(("\u2192", "|")):
        step = step[:-1]
    return step.strip()


def _split_outcome(item: str) -> tuple[str, str]:
    """A steps-tried item as (step, outcome), the outcome "" when the item gives none."""
    found = _OUTCOME_WORD.search(item)
    if found is None:
        return item.strip(), ""
    return _without_arrow(item[: found.start()]), item[found.end() :].strip()


def _parse_steps(lines: list[str]) -> tuple[tuple[StepTried, ...], tuple[str, ...]]:
    steps: list[StepTried] = []
    without: list[str] = []
    for item in _items(lines):
        step, outcome = _split_outcome(item)
        outcome = outcome.rstrip(")").strip()
        if step and outcome:
            steps.append(StepTried(step=step, outcome=outcome))
        elif step:
            without.append(step)
    return tuple(steps), tuple(without)


def _parse_contact(lines: list[str], default_zone: str | None) -> NextContact | None:
    at: datetime | None = None
    who_parts: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        who = _WHO_WAITS.fullmatch(_collapsed(line))
        if who is not None:
            who_parts.append(who.group(1).strip())
            continue
        if at is None:
            at = _read_time(line, default_zone)
            if at is not None:
                continue
        who_parts.append(_strip_bullet(_WHEN.sub("", line)))
    who_waits = " ".join(part for part in who_parts if part)
    if at is None or not who_waits:
        return None
    return NextContact(at=at, who_waits=who_waits)


def parse_notes(text: str, *, zone_name: str | None = None) -> ParsedNotes:
    """Read notes pasted in the seed 000 template; see the module doc for what is tolerated.

    ``zone_name`` is the zone a next-contact time without offset or zone name is read in; with
    neither, such a time is not guessed and the next contact counts as missing.
    """
    truncated = len(text) > MAX_NOTES_CHARS
    if truncated:
        kept = text[:MAX_NOTES_CHARS]
        cut = max(kept.rfind("\n"), kept.rfind("\r"))
        text = kept[:cut] if cut != -1 else kept
    sections: dict[str, list[str]] = {}
    checklist_values: dict[str, Any] = {}
    current: str | None = None
    for raw in _lines(text):
        line = raw.replace("\t", " ")
        compact = _collapsed(line)
        if _UNDERLINE_LINE.match(compact) or _NOISE_LINE.match(compact):
            continue
        head, colon, after = compact.partition(":")
        head = head.rstrip()
        if len(head) <= MAX_HEADING_CHARS:
            key_line = _KEY_HEAD.fullmatch(head) if colon else None
            # Outside the checklist only the template's own "Question?:" / "<Key:>" form
            # counts, so a summary line such as "Pending on: the customer's logs" stays there.
            is_checklist_line = current == "checklist" or "?" in head or head.startswith("<")
            key = _normalised(key_line["key"]) if key_line is not None else ""
            if is_checklist_line and key in _CHECKLIST_KEYS:
                name = _CHECKLIST_KEYS[key]
                # "<Reason for Critsit:>": the template's closing bracket is no part of a value.
                value = after.rstrip("> ").strip()
                if name in ("customer_reachable", "waiting_for_rca", "accepts_english"):
                    checklist_values[name] = _yes_no_value(value)
                elif name == "pending_on":
                    checklist_values[name] = _pending_value(value)
                else:
                    checklist_values[name] = value or None
                continue
            heading = _HEADING_HEAD.fullmatch(head)
            name = _normalised(heading["name"]) if heading is not None else ""
            # "Customer:" / "Microsoft:" are ordinary words elsewhere ("Customer: a retailer" in
            # a summary); only under Next Steps do they stand for the template's Cx / MSFT.
            if name in _NEXT_STEPS_ONLY and current not in _NEXT_STEPS_SECTIONS:
                name = ""
            if name in _HEADINGS:
                current = _HEADINGS[name]
                sections.setdefault(current, [])
                # Taken from the line as written, so text after the heading keeps its spacing.
                rest = line.partition(":")[2].strip()
                if rest:
                    sections[current].append(rest)
                continue
        if current is not None:
            sections[current].append(line)

    steps, without = _parse_steps(sections.get("steps_tried", []))
    found_checklist = {name: value for name, value in checklist_values.items() if value is not None}
    parsed = ParsedNotes(
        summary=_text(sections.get("summary", [])),
        reason=_text(sections.get("reason", [])),
        issue=_text(sections.get("issue", [])),
        steps_tried=steps,
        steps_without_outcome=without,
        next_steps_customer=_items(sections.get("next_steps_customer", [])),
        next_steps_us=_items(sections.get("next_steps_us", [])),
        icm_or_partner_ticket=_text(sections.get("icm_or_partner_ticket", [])),
        research=_items(sections.get("research", [])),
        checklist=Checklist(**found_checklist) if found_checklist else None,
        next_customer_contact=_parse_contact(sections.get("next_customer_contact", []), zone_name),
        root_cause=_text(sections.get("root_cause", [])),
        blockers=_text(sections.get("blockers", [])),
        sla_urgency=_text(sections.get("sla_urgency", [])),
        questions_answered=_items(sections.get("questions_answered", [])),
    )
    present = parsed.found()
    missing = tuple(
        name for name in ASKED_FIELDS if name not in present or (name == "steps_tried" and without)
    )
    return replace(parsed, missing=missing, truncated=truncated)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def parse_items(text: str) -> tuple[str, ...]:
    """One item per line, bullets and numbering dropped: a list typed into a form field."""
    return _items(_lines(text))


def parse_steps(text: str) -> tuple[tuple[StepTried, ...], tuple[str, ...]]:
    """Steps tried typed one per line as `step -> Outcome: …`; the steps given without an
    outcome come back apart, so the engineer can be asked for them."""
    return _parse_steps(_lines(text))
