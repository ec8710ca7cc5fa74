"""Hand-over notes pasted as text, read back into their fields (R-NOTES).

``parse_notes`` reads the seed 000 template as ``notes_template.render_notes`` writes it, and
seed 001's list as engineers copy it ("- PASS TO: US", "- REASON: …", "- NEXT STEPS: …"), so the
dialog asks only for what the text lacks. It is tolerant on purpose, since engineers paste from
many editors: headings in any case, with or without a trailing colon, markdown ``#``/``**`` or
the seed's ``\\=====`` underlines; Windows or old-Mac line endings; extra blank lines; list items
with ``-``, ``*``, ``•`` or ``1.`` / ``1)``. A line that is only a known heading name (optionally
followed by a colon and text) starts that section; this means a content line such as "Research:
none" inside the summary starts the Research section, the price of accepting headings without
underlines. Seed 001's keys may also come as a bulleted "- KEY: text" line, except inside a list
(research, next steps, questions answered), where such a line is one of its items.

Seed 001's free-form lines are read as their fields: text under "Next steps" that is under
neither Cx nor MSFT is what the next engineer does (seed 001: "What does the CSE taking over need
to do?"); a next-contact line may hold the time and who waits for whom together; a step tried
may give its result after an arrow ("step -> result"), with or without the word "Outcome:".

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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from ..models import CaseStatus, Checklist, HandoffNotes, NextContact, PendingOn, StepTried
from ..schedule import check_zone
from .template import ASKED_FIELDS, NOTE_FIELDS, OUTCOME_SEPARATOR, read_language_needs

# Normalised heading text -> the section it starts. "next_steps" groups Cx and MSFT; text right
# under it is what the next engineer does.
_HEADINGS: dict[str, str] = {
    "summary": "summary",
    "pass to": "pass_to",
    "pass to region": "pass_to",
    "reason": "handoff_reason",
    "reason for handoff": "handoff_reason",
    "reason for transfer": "handoff_reason",
    "why it needs a handoff": "reason",
    "justification": "reason",
    "language needs": "language_needs",
    "language need": "language_needs",
    "language": "language_needs",
    "language skill": "language_needs",
    "language skill needed": "language_needs",
    "issue": "issue",
    "steps tried": "steps_tried",
    "steps already taken": "steps_tried",
    "steps taken": "steps_tried",
    "root cause": "root_cause",
    "current status": "status",
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
# Seed 001's keys, which its template writes as a bulleted list of "KEY: text" lines.
_SEED_001_KEYS = frozenset(
    {"pass to", "reason", "issue", "steps tried", "next steps", "next customer contact"}
)
# Sections whose lines are list items: there, "- KEY: text" is an item, not seed 001's key.
_LIST_SECTIONS = frozenset(
    {"steps_tried", "next_steps_customer", "next_steps_us", "research", "questions_answered"}
)

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
# The bullets seed 001's list is written with (numbers are items, never keys).
_KEY_BULLET = re.compile(r"[-\u2022\u00b7] ")
_UNDERLINE_LINE = re.compile(r"^\s*\\?[=\-]{3,}\s*$")
# The line that counts what a list leaves out ("… 17 more questions answered earlier").
_MORE_LINE = re.compile(r"^\s*\u2026 \d+ more\b")
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
# "step -> result": an arrow with a space on each side; unspaced ("A->B") it is part of the step.
_SPACED_ARROW = re.compile(r"\s(?:-{1,2}>|={1,2}>|\u2192|[\u2013\u2014]>)\s")

# --- times ---------------------------------------------------------------------------------------

_WEEKDAY = r"(?:\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? )?"
_DATE_TIME = re.compile(_WEEKDAY + r"(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})", re.IGNORECASE)
_OFFSET = re.compile(r"UTC\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
# "16:30 UTC", as times in UTC itself are shown (format_in_zone).
_BARE_UTC = re.compile(r" (?:UTC|GMT)(?![A-Za-z+\-])")
_ZONE_NAME = re.compile(r"\b([A-Za-z]+(?:/[A-Za-z0-9_+\-]+)+)\b")
# What follows a time as render_notes writes it: " CEST (UTC+02:00, Europe/Berlin)". Each part
# starts with its own character, so a line that does not match fails at once.
_ZONE_WORD = r"[A-Za-z]+(?:/[A-Za-z0-9_+\-]+)+"
_TIME_TAIL = re.compile(
    r"(?: [A-Z]{2,5}(?![A-Za-z]))?"
    rf"(?: ?\(UTC[+-]\d{{2}}:\d{{2}}(?:, {_ZONE_WORD})?\))?"
    rf"(?: {_ZONE_WORD})?"
)


def _read_time(text: str, default_zone: str | None) -> tuple[datetime, str] | None:
    """The time a line gives, and the line without it (its other words: who waits for whom)."""
    found = _DATE_TIME.search(text)
    if found is None:
        return None
    day, hour, minute = found.groups()
    wall = datetime.fromisoformat(f"{day}T{int(hour):02d}:{minute}")
    tail = _TIME_TAIL.match(text, found.end())
    end = tail.end() if tail is not None else found.end()
    rest = f"{text[: found.start()]} {text[end:]}"
    # An explicit offset pins the instant even across a DST overlap, so it wins over a name.
    offset = _OFFSET.search(text, found.end())
    if offset is not None:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if offset.start() >= end:
            rest = f"{text[: found.start()]} {text[end : offset.start()]} {text[offset.end() :]}"
        return wall.replace(tzinfo=timezone(-delta if sign == "-" else delta)), rest
    if _BARE_UTC.match(text, found.end()):
        return wall.replace(tzinfo=UTC), rest
    for candidate in _ZONE_NAME.finditer(text):
        try:
            zone = ZoneInfo(check_zone(candidate.group(1)))
        except ValueError:
            continue
        if candidate.start() >= end:
            after = f"{text[end : candidate.start()]} {text[candidate.end() :]}"
            rest = f"{text[: found.start()]} {after}"
        return wall.replace(tzinfo=zone), rest
    if default_zone is not None:
        return wall.replace(tzinfo=ZoneInfo(check_zone(default_zone))), rest
    # A time without any zone would be a guess; the dialog asks for it instead.
    return None


# --- reading values ------------------------------------------------------------------------------


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


def _status_value(text: str | None) -> CaseStatus | None:
    # "Waiting for the customer" means "waiting on customer": only the words that matter count.
    words = set(_normalised(text or "").split()) - {"on", "for", "the", "a", "an"}
    for member in CaseStatus:
        if words == set(member.value.split()) - {"on"}:
            return member
    return None


def _region_value(text: str | None) -> str | None:
    words = _collapsed(text or "").upper().removesuffix(" SE").removesuffix(" REGION").strip()
    return words if re.fullmatch(r"[A-Z][A-Z0-9_]{0,15}", words) else None


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
    outcome), and then ``steps_tried`` counts as missing. ``pass_to``, ``handoff_reason``,
    ``language_needs``, ``customer_language`` (None when unnamed) and ``status`` are facts of the
    handoff and the case, not of the notes: read back, but never asked for as notes.
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
    pass_to: str | None = None
    handoff_reason: str | None = None
    language_needs: str | None = None
    customer_language: str | None = None
    status: CaseStatus | None = None
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
    # The bot's own separator first, so a step that says "result:" is not cut there.
    step, separator, outcome = item.partition(OUTCOME_SEPARATOR)
    if separator:
        return step.strip(), outcome.strip()
    found = _OUTCOME_WORD.search(item)
    if found is not None:
        before = item[: found.start()].rstrip()
        outcome = item[found.end() :].strip()
        # "(result: …)": the bracket opened before the word closes after the outcome.
        if before.endswith("("):
            outcome = outcome.removesuffix(")").rstrip()
        return _without_arrow(before), outcome
    arrow = _SPACED_ARROW.search(item)
    if arrow is not None:
        return item[: arrow.start()].strip(), item[arrow.end() :].strip()
    return item.strip(), ""


def _parse_steps(lines: list[str]) -> tuple[tuple[StepTried, ...], tuple[str, ...]]:
    steps: list[StepTried] = []
    without: list[str] = []
    for item in _items(lines):
        step, outcome = _split_outcome(item)
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
        line = _strip_bullet(_WHEN.sub("", line))
        if at is None:
            read = _read_time(line, default_zone)
            if read is not None:
                at, line = read
        # What is left of a line that gave the time is who waits ("Customer waits for us,
        # 2026-06-03 09:00"), without the commas or dashes that joined the two.
        who_parts.append(_collapsed(line).strip(" ,;-\u2013\u2014"))
    who_waits = " ".join(part for part in who_parts if part)
    if at is None or not who_waits:
        return None
    return NextContact(at=at, who_waits=who_waits)


def _heading_of(head: str, current: str | None) -> str | None:
    """The section a line's head (the part before its first colon) starts, if any."""
    heading = _HEADING_HEAD.fullmatch(head)
    name = _normalised(heading["name"]) if heading is not None else ""
    # "Customer:" / "Microsoft:" are ordinary words elsewhere ("Customer: a retailer" in a
    # summary); only under Next Steps do they stand for the template's Cx / MSFT.
    if name in _NEXT_STEPS_ONLY and current not in _NEXT_STEPS_SECTIONS:
        return None
    return _HEADINGS.get(name)


def _seed_001_heading_of(head: str, current: str | None, in_seed_001_list: bool) -> str | None:
    """The section a bulleted "- KEY: text" line of seed 001 starts, if it is one: anywhere but
    in a list the template started (there it is an item), since seed 001's own keys follow one
    another ("- STEPS TRIED: …", then "- NEXT STEPS: …")."""
    bullet = _KEY_BULLET.match(head)
    if bullet is None or (current in _LIST_SECTIONS and not in_seed_001_list):
        return None
    name = _normalised(head[bullet.end() :])
    return _HEADINGS[name] if name in _SEED_001_KEYS else None


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
    # Whether the current section was started by one of seed 001's "- KEY:" lines.
    in_seed_001_list = False
    for raw in _lines(text):
        line = raw.replace("\t", " ")
        compact = _collapsed(line)
        if (
            _UNDERLINE_LINE.match(compact)
            or _NOISE_LINE.match(compact)
            or _MORE_LINE.match(compact)
        ):
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
            section = _heading_of(head, current)
            from_seed_001 = False
            if section is None and colon:
                section = _seed_001_heading_of(head, current, in_seed_001_list)
                from_seed_001 = section is not None
            if section is not None:
                in_seed_001_list = from_seed_001
                current = section
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
    language, language_needs = read_language_needs(_text(sections.get("language_needs", [])) or "")
    parsed = ParsedNotes(
        summary=_text(sections.get("summary", [])),
        reason=_text(sections.get("reason", [])),
        issue=_text(sections.get("issue", [])),
        steps_tried=steps,
        steps_without_outcome=without,
        next_steps_customer=_items(sections.get("next_steps_customer", [])),
        # Seed 001's NEXT STEPS: what the engineer taking over does, under no Cx / MSFT.
        next_steps_us=_items(sections.get("next_steps", []) + sections.get("next_steps_us", [])),
        icm_or_partner_ticket=_text(sections.get("icm_or_partner_ticket", [])),
        research=_items(sections.get("research", [])),
        checklist=Checklist(**found_checklist) if found_checklist else None,
        next_customer_contact=_parse_contact(sections.get("next_customer_contact", []), zone_name),
        root_cause=_text(sections.get("root_cause", [])),
        blockers=_text(sections.get("blockers", [])),
        sla_urgency=_text(sections.get("sla_urgency", [])),
        questions_answered=_items(sections.get("questions_answered", [])),
        pass_to=_region_value(_text(sections.get("pass_to", []))),
        handoff_reason=_text(sections.get("handoff_reason", [])),
        language_needs=language_needs or None,
        customer_language=language,
        status=_status_value(_text(sections.get("status", []))),
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
    """Steps tried typed one per line as `step -> result` (or `step -> Outcome: result`); the
    steps given without an outcome come back apart, so the engineer can be asked for them."""
    return _parse_steps(_lines(text))
