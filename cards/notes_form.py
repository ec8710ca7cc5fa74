"""The handoff dialog's notes form (R-NOTES): the card, its reader, and the notes as its values.

The reader says, per field, what to fix; the quality rules themselves stay in handoff/quality.
Text pasted in the team's templates (the form's paste box, or a chat message) fills what the
boxes leave empty: the boxes win where both are filled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from handoff.models import Case, Checklist, HandoffNotes, NextContact, PendingOn
from handoff.notes.parser import ParsedNotes, parse_items, parse_notes, parse_steps
from i18n import N_, _, formats

from .elements import (
    Json,
    card,
    choice_set,
    date_input,
    heading,
    problems_block,
    text,
    text_input,
    time_input,
)
from .form_parts import MAX_REASON_TEXT, Raw, yes_no
from .form_parts import form_buttons as _buttons
from .form_parts import raw_text as _str
from .handoff_words import WHO_WAITS_WORDS

# The checklist's questions and the free-text boxes, by field; their labels are translated
# where shown.
_CHECKLIST_QUESTIONS = (
    ("customer_reachable", N_("Customer reachable?")),
    ("waiting_for_rca", N_("Waiting for RCA?")),
    ("accepts_english", N_("Customer accepts English support?")),
)
# Free-text note fields of seeds 001 and 003 that have their own box on the notes card.
_TEXT_NOTES = (
    ("issue", N_("Issue (the problem in the customer's words)")),
    ("root_cause", N_("Root cause, if known")),
    ("blockers", N_("Blockers or approvals waited on")),
    ("sla_urgency", N_("SLA urgency")),
)
_CHECKLIST_KEYS = tuple(key for key, _label in _CHECKLIST_QUESTIONS)
_TEXT_NOTE_KEYS = tuple(key for key, _label in _TEXT_NOTES)
# Who waits for whom: the value is what the notes say (in English, as tools read them), the
# title what the form shows.
WHO_WAITS: tuple[tuple[str, str], ...] = tuple(WHO_WAITS_WORDS.items())
_PENDING = tuple((p.value, p.value) for p in PendingOn)

# The most each box holds (its maxLength), set so that the form asked again with every box full
# and its problems on top stays within Teams' message limit, and so does the review that shows
# the notes (tests/dialogs/test_card_limits.py). Notes are a summary for the next engineer; the
# details belong in the case. Pasted notes longer than a box are refused by name (too_long).
NOTE_LIMITS: dict[str, int] = {
    "summary": 800,
    "steps_tried": 1000,
    "next_steps_customer": 400,
    "next_steps_us": 600,
    "issue": 400,
    "root_cause": 250,
    "blockers": 250,
    "sla_urgency": 150,
    "icm_or_partner_ticket": 150,
    "research": 500,
    "icm_id": 50,
    "critsit_reason": 200,
    "justification": 400,
    "who_waits": 200,
}
# The paste box is not shown again, so it may take a whole template.
MAX_PASTE_CHARS = 10_000


def note_labels() -> dict[str, str]:
    """The notes' fields as the notes form names them (and its problems, and the insights)."""
    return {
        "summary": _("Summary"),
        "issue": _("Issue"),
        "steps_tried": _("Steps tried"),
        "next_steps_customer": _("Next steps for the customer"),
        "next_steps_us": _("Next steps for us"),
        "icm_or_partner_ticket": _("ICM or partner ticket"),
        "research": _("Research"),
        "checklist": _("Checklist"),
        "next_customer_contact": _("Next customer contact"),
        "justification": _("Why this case needs a handoff"),
        "reason": _("Why this case needs a handoff"),
        "root_cause": _("Root cause"),
        "blockers": _("Blockers or approvals"),
        "sla_urgency": _("SLA urgency"),
        "icm_id": _("IcM ID"),
        "critsit_reason": _("Reason for critsit"),
        "who_waits": _("Who waits for whom"),
    }


def too_long(notes: HandoffNotes) -> list[str]:
    """The fields longer than their box (pasted ones: a box takes no more when typed in). The
    form shows each cut at its box's length, so the problem says so."""
    problems = []
    labels = note_labels()
    for key, value in notes_to_raw(notes, "Etc/UTC").items():
        limit = NOTE_LIMITS.get(key)
        if limit is not None and len(value) > limit:
            problems.append(
                _(
                    "{label}: {count} characters are more than this form holds ({limit}), so the "
                    "box below shows the first {limit}: shorten it and check its end (the details "
                    "belong in the case)."
                ).format(
                    label=labels[key],
                    count=formats.number(len(value)),
                    limit=formats.number(limit),
                )
            )
    return problems


def notes_to_raw(notes: HandoffNotes, zone_name: str) -> dict[str, str]:
    """The card's input values for notes already known (pasted, or from an earlier handoff)."""
    raw: dict[str, str] = {
        "summary": notes.summary,
        "justification": notes.reason or "",
        "steps_tried": "\n".join(f"{s.step} -> Outcome: {s.outcome}" for s in notes.steps_tried),
        "next_steps_customer": "\n".join(notes.next_steps_customer),
        "next_steps_us": "\n".join(notes.next_steps_us),
        "icm_or_partner_ticket": notes.icm_or_partner_ticket or "",
        "research": "\n".join(notes.research),
        "critsit_reason": notes.checklist.critsit_reason or "",
        "icm_id": notes.checklist.icm_id or "",
        "pending_on": notes.checklist.pending_on.value if notes.checklist.pending_on else "",
    }
    for key in _CHECKLIST_KEYS:
        value = getattr(notes.checklist, key)
        if value is not None:
            raw[key] = "yes" if value else "no"
    for key in _TEXT_NOTE_KEYS:
        raw[key] = getattr(notes, key) or ""
    contact = notes.next_customer_contact
    if contact is not None:
        local = contact.at.astimezone(ZoneInfo(zone_name))
        raw["next_contact_date"] = local.date().isoformat()
        raw["next_contact_time"] = local.strftime("%H:%M")
        raw["who_waits"] = contact.who_waits
    return {key: value for key, value in raw.items() if value}


def _box(key: str, label: str, raw: Raw, *, multiline: bool = True, required: bool = False) -> Json:
    return text_input(
        key,
        label,
        _str(raw, key),
        multiline=multiline,
        required=required,
        max_length=NOTE_LIMITS[key],
    )


def notes_card(case: Case, raw: Raw, problems: Sequence[str], *, needs_justification: bool) -> Json:
    zone = case.customer_timezone
    body: list[Json] = [
        heading(_("Handoff of case {number}: the notes").format(number=case.number)),
        text(
            _(
                "Write them so another engineer can carry on without you. You can also paste "
                "notes written in the team's template below, or as a chat message."
            ),
            subtle=True,
        ),
        *problems_block(problems),
        _box("summary", _("Summary"), raw, multiline=True, required=True),
        # Translators: "->" is what the form reads between a step and its outcome: keep it.
        _box("steps_tried", _("Steps tried, one per line: step -> what happened"), raw),
        _box("next_steps_customer", _("Next steps for the customer, one per line"), raw),
        _box(
            "next_steps_us",
            _("Next steps for us, one per line, each saying who (e.g. US SE: …)"),
            raw,
            required=True,
        ),
        *(_box(key, _(label), raw) for key, label in _TEXT_NOTES),
        _box("icm_or_partner_ticket", _("ICM or partner ticket"), raw, multiline=False),
        _box("research", _("Research: links to articles, logs, screenshots"), raw),
        text(
            _("Next customer contact, in the customer's time zone ({zone})").format(zone=zone),
            weight="Bolder",
        ),
        date_input("next_contact_date", _("Date"), _str(raw, "next_contact_date")),
        time_input("next_contact_time", _("Time"), _str(raw, "next_contact_time")),
        choice_set(
            "who_waits",
            _("Who waits for whom"),
            [(value, _(title)) for value, title in WHO_WAITS],
            _str(raw, "who_waits")[: NOTE_LIMITS["who_waits"]],
            required=False,
        ),
        text(_("Checklist"), weight="Bolder"),
        # Yes/No with no default: an unanswered question must not be written down as "No".
        *(
            choice_set(key, _(label), yes_no(), _str(raw, key), required=False, expanded=True)
            for key, label in _CHECKLIST_QUESTIONS
        ),
        choice_set(
            "pending_on", _("Now pending on"), _PENDING, _str(raw, "pending_on"), required=False
        ),
        _box("icm_id", _("IcM ID"), raw, multiline=False),
        _box("critsit_reason", _("Reason for critsit (critical cases)"), raw, multiline=False),
    ]
    if needs_justification:
        body.append(
            _box(
                "justification",
                _(
                    "The customer did not ask for this handoff and the reason is not one of the "
                    "accepted ones: why does the case need it?"
                ),
                raw,
                required=True,
            )
        )
    body.append(
        text_input(
            "paste",
            _("Or paste notes in the team's template (fields above win where both are filled)"),
            None,
            multiline=True,
            max_length=MAX_PASTE_CHARS,
        )
    )
    return card(body, _buttons("notes"))


def _next_contact(raw: Raw, zone_name: str) -> NextContact | str | None:
    day, clock, who = (
        _str(raw, "next_contact_date"),
        _str(raw, "next_contact_time"),
        _str(raw, "who_waits"),
    )
    if not (day or clock or who):
        return None
    if not (day and clock and who):
        return _("Next customer contact: give the date, the time and who waits for whom.")
    try:
        local = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock))
    except ValueError:
        return _(
            "Next customer contact: the date must look like 2026-11-24 and the time like 09:30."
        )
    return NextContact(at=local.replace(tzinfo=ZoneInfo(zone_name)), who_waits=who)


def pasted_notes(parsed: ParsedNotes, *, needs_justification: bool) -> HandoffNotes:
    """The notes that pasted text gives. Seed 001's REASON says why the case moves; when the
    handoff needs a justification (nobody asked for it) and none was pasted under its own
    heading, that REASON is it. A handoff that needs none keeps none, even if one was pasted."""
    found = parsed.found()
    if not needs_justification:
        found.pop("reason", None)
    elif "reason" not in found and parsed.handoff_reason:
        found["reason"] = parsed.handoff_reason
    return HandoffNotes.model_validate({**HandoffNotes().model_dump(), **found})


def pasted_raw(parsed: ParsedNotes, zone_name: str, *, needs_justification: bool) -> Raw:
    """The form's values for notes pasted as text: what the template gives, and the steps tried
    written without an outcome kept as written, so the form asks for their outcomes instead of
    losing them."""
    notes = pasted_notes(parsed, needs_justification=needs_justification)
    raw = notes_to_raw(notes, zone_name)
    if parsed.steps_without_outcome:
        raw["steps_tried"] = "\n".join([raw["steps_tried"], *parsed.steps_without_outcome]).strip()
    return raw


def reason_for_transfer(
    parsed: ParsedNotes, transfer: Raw, *, needs_justification: bool
) -> dict[str, Any] | None:
    """The transfer form's values with seed 001's pasted REASON in its reason box, when that box
    was left empty: the box asks the same (why the case moves, what the customer gains). None
    when there is nothing to fill, or the REASON went into the justification instead."""
    reason = parsed.handoff_reason
    if needs_justification or not reason or _str(transfer, "reason_text"):
        return None
    if len(reason) > MAX_REASON_TEXT:
        return None  # the box refuses it; the notes keep their own copy of the text
    return {**transfer, "reason_text": reason}


def read_notes(raw: Raw, zone_name: str, *, needs_justification: bool) -> HandoffNotes | list[str]:
    """The notes the card holds; text in the paste box fills what the fields leave empty. The
    justification is read only when the handoff needs one: its box is shown only then, and an
    answer left from an earlier reason must not outlive it."""
    steps, without_outcome = parse_steps(_str(raw, "steps_tried"))
    problems = [
        # Translators: "->" is what the form reads between a step and its outcome: keep it.
        _("Steps tried: add the outcome of “{step}” (write: step -> what happened).").format(
            step=step
        )
        for step in without_outcome
    ]
    contact = _next_contact(raw, zone_name)
    if isinstance(contact, str):
        problems.append(contact)
        contact = None
    pending = _str(raw, "pending_on")
    answers = {key: {"yes": True, "no": False}.get(_str(raw, key)) for key in _CHECKLIST_KEYS}
    typed_checklist = {
        **answers,
        "pending_on": PendingOn(pending) if pending in {p.value for p in PendingOn} else None,
        "icm_id": _str(raw, "icm_id") or None,
        "critsit_reason": _str(raw, "critsit_reason") or None,
    }
    entered: dict[str, Any] = {
        "summary": _str(raw, "summary"),
        "reason": _str(raw, "justification") if needs_justification else "",
        "steps_tried": steps,
        "next_steps_customer": parse_items(_str(raw, "next_steps_customer")),
        "next_steps_us": parse_items(_str(raw, "next_steps_us")),
        "icm_or_partner_ticket": _str(raw, "icm_or_partner_ticket") or None,
        "research": parse_items(_str(raw, "research")),
        "next_customer_contact": contact,
        **{key: _str(raw, key) or None for key in _TEXT_NOTE_KEYS},
    }
    if problems:
        return problems
    parsed = parse_notes(_str(raw, "paste"), zone_name=zone_name)
    pasted = pasted_notes(parsed, needs_justification=needs_justification).model_dump()
    pasted = {k: v for k, v in pasted.items() if v not in ("", (), None)}
    typed = {key: value for key, value in entered.items() if value not in ("", (), None)}
    # The checklist merges field by field: a pasted answer fills what the card left open.
    pasted_checklist = pasted.pop("checklist", {})
    given = {k: v for k, v in typed_checklist.items() if v is not None}
    checklist = Checklist.model_validate({**pasted_checklist, **given})
    return HandoffNotes.model_validate({**pasted, **typed, "checklist": checklist})
