"""The handoff dialog's forms: each a card builder and a reader of what the card sends back.

Readers turn the card's strings into domain values and say, per field, what to fix; the rules
themselves (quality, policy) stay in handoff/.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pydantic import ValidationError

from handoff.models import (
    Case,
    CaseStatus,
    Handoff,
    HandoffOutputs,
    Severity,
    SupportPlan,
)
from handoff.notes.template import format_in_zone
from handoff.policy import MustDo, TransferReason, missing_must_dos

from .elements import (
    Json,
    card,
    choice_set,
    copyable,
    facts,
    heading,
    open_url,
    problems_block,
    submit,
    text,
    text_input,
    toggle,
    verbatim,
)
from .fit import CARD_LIMIT_BYTES, utf16_bytes
from .form_parts import MAX_REASON_TEXT, YES_NO, Raw
from .form_parts import form_buttons as _buttons
from .form_parts import raw_flag as _flag
from .form_parts import raw_text as _str

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

TRANSFER_KINDS: tuple[tuple[str, str], ...] = (
    ("between", "Hand the case to another region"),
    ("within", "Transfer within my region"),
    ("collab", "Collaboration handoff (another team works on it with me)"),
)
_PLANS = tuple((plan.value, plan.value) for plan in SupportPlan)
_SEVERITIES = tuple((s.value, f"Sev {s.value}") for s in Severity)
_STATUSES = tuple((s.value, s.value.capitalize()) for s in CaseStatus)
_REASONS = tuple((r.value, r.label) for r in TransferReason)


@cache
def time_zone_choices() -> tuple[tuple[str, str], ...]:
    """One zone per set of clocks that agree from now on (tzdata's zonenow.tab), west to east,
    titled with the places it covers. Short on purpose: the whole list travels in the card, and
    Teams caps a message's size."""
    table = resources.files("tzdata.zoneinfo").joinpath("zonenow.tab").read_text(encoding="utf-8")
    choices: list[tuple[str, str]] = [("Etc/UTC", "UTC — Coordinated Universal Time")]
    for line in table.splitlines():
        fields = line.split("\t")
        if line.startswith("#") or len(fields) < 3:
            continue
        places = fields[3] if len(fields) > 3 else fields[2].split("/")[-1].replace("_", " ")
        choices.append((fields[2], f"{places} — {fields[2]}"))
    return tuple(choices)


def _pydantic_problems(error: ValidationError, labels: Mapping[str, str]) -> list[str]:
    problems = []
    for item in error.errors():
        key = str(item["loc"][0]) if item["loc"] else ""
        label = labels.get(key, key.replace("_", " "))
        problems.append(f"{label}: {str(item['msg']).removeprefix('Value error, ')}")
    return problems


# --- case ------------------------------------------------------------------------------------

CASE_LABELS = {
    "number": "Case number",
    "title": "Internal case title",
    "severity": "Severity",
    "plan": "Support plan",
    "product_skill": "Product skill",
    "customer_region": "Customer region",
    "customer_timezone": "Customer time zone",
    "status": "Current status",
    "owner_region": "Your region",
}


def case_card(case_number: str, regions: Sequence[str], raw: Raw, problems: Sequence[str]) -> Json:
    region_choices = [(code, code) for code in regions]
    body = [
        heading(f"Handoff of case {case_number}: the case"),
        *problems_block(problems),
        text_input(
            "title",
            "Internal case title, as it is now",
            _str(raw, "title"),
            required=True,
            # As long as the case record takes (handoff.models.Case.title).
            max_length=500,
        ),
        choice_set("severity", "Severity", _SEVERITIES, _str(raw, "severity"), expanded=True),
        toggle("is_24x7", "The customer works 24x7 on this case", _flag(raw, "is_24x7")),
        choice_set("plan", "Support plan", _PLANS, _str(raw, "plan")),
        text_input(
            "product_skill",
            "Product skill",
            _str(raw, "product_skill"),
            required=True,
            max_length=200,
        ),
        choice_set(
            "customer_region", "Customer region", region_choices, _str(raw, "customer_region")
        ),
        choice_set(
            "customer_timezone",
            "Customer time zone",
            time_zone_choices(),
            _str(raw, "customer_timezone"),
        ),
        choice_set("status", "Current status", _STATUSES, _str(raw, "status")),
        text_input(
            "language_needs",
            "Language needs (optional, e.g. customer prefers Japanese)",
            _str(raw, "language_needs"),
            max_length=200,
        ),
        choice_set("owner_region", "Your region", region_choices, _str(raw, "owner_region")),
    ]
    return card(body, _buttons("case", first=True))


@dataclass(frozen=True)
class CaseAnswers:
    case: Case
    owner_region: str


def read_case(case_number: str, raw: Raw, regions: Sequence[str]) -> CaseAnswers | list[str]:
    problems: list[str] = []
    if not _str(raw, "title"):
        problems.append("Internal case title: paste the case's title as it is now.")
    owner_region = _str(raw, "owner_region")
    if owner_region not in regions:
        problems.append("Your region: choose the region you work in.")
    customer_region = _str(raw, "customer_region")
    if customer_region and customer_region not in regions:
        problems.append(f"Customer region: choose one of {', '.join(regions)}.")
    try:
        case = Case(
            number=case_number,
            severity=_str(raw, "severity") or None,
            is_24x7=_flag(raw, "is_24x7"),
            plan=_str(raw, "plan") or None,
            product_skill=_str(raw, "product_skill"),
            customer_region=customer_region,
            customer_timezone=_str(raw, "customer_timezone"),
            status=_str(raw, "status") or CaseStatus.IN_PROGRESS,
            title=_str(raw, "title"),
            language_needs=_str(raw, "language_needs") or None,
        )
    except ValidationError as error:
        return problems + _pydantic_problems(error, CASE_LABELS)
    if problems:
        return problems
    return CaseAnswers(case=case, owner_region=owner_region)


# --- transfer --------------------------------------------------------------------------------


def transfer_card(case: Case, regions: Sequence[str], raw: Raw, problems: Sequence[str]) -> Json:
    region_choices = [(code, code) for code in regions]
    body: list[Json] = [
        heading(f"Handoff of case {case.number}: where it goes, and why"),
        *problems_block(problems),
        choice_set("kind", "Kind of handoff", TRANSFER_KINDS, _str(raw, "kind"), expanded=True),
        choice_set("target_region", "Receiving region", region_choices, _str(raw, "target_region")),
        text_input(
            "target_engineer",
            "E-mail of a named engineer for a warm handoff (optional: next tech, escalation "
            "team, vendor queue)",
            _str(raw, "target_engineer"),
            max_length=200,
        ),
        choice_set("reason", "Reason", _REASONS, _str(raw, "reason"), expanded=True),
        text_input(
            "reason_text",
            "Reason in your words (required for Other; what the customer gains)",
            _str(raw, "reason_text"),
            multiline=True,
            max_length=MAX_REASON_TEXT,
        ),
        toggle(
            "customer_asked", "The customer asked for this handoff", _flag(raw, "customer_asked")
        ),
        toggle(
            "needs_collab_input",
            "Collaboration: I still need input from the collaborating team",
            _flag(raw, "needs_collab_input"),
        ),
        toggle(
            "resolved_pending",
            "The solution was delivered; only the customer's closure confirmation is pending",
            _flag(raw, "resolved_pending"),
        ),
        toggle(
            "severity_raise",
            "I suggested the customer raise the severity to get help faster",
            _flag(raw, "severity_raise"),
        ),
    ]
    return card(body, _buttons("transfer"))


@dataclass(frozen=True)
class TransferAnswers:
    kind: str
    target_region: str
    target_engineer: str
    reason: TransferReason
    reason_text: str
    customer_asked: bool
    needs_collab_input: bool
    resolved_pending: bool
    severity_raise: bool

    @property
    def reason_line(self) -> str:
        if self.reason is TransferReason.OTHER:
            return self.reason_text
        return (
            f"{self.reason.label}. {self.reason_text}".strip()
            if self.reason_text
            else self.reason.label
        )


def read_transfer(
    raw: Raw, regions: Sequence[str], owner_region: str
) -> TransferAnswers | list[str]:
    problems: list[str] = []
    kind = _str(raw, "kind")
    if kind not in dict(TRANSFER_KINDS):
        problems.append("Kind of handoff: choose one.")
    target = _str(raw, "target_region")
    if kind == "within":
        target = target or owner_region
        if target != owner_region:
            problems.append(
                f"Receiving region: a transfer within your region stays in {owner_region}."
            )
    elif target not in regions:
        problems.append("Receiving region: choose where the case goes.")
    elif kind == "between" and target == owner_region:
        problems.append(
            f"Receiving region: {target} is your own region; choose another region, or "
            "“Transfer within my region”."
        )
    try:
        reason = TransferReason(_str(raw, "reason"))
    except ValueError:
        problems.append("Reason: choose one of the accepted reasons, or Other.")
        reason = TransferReason.OTHER
    engineer = _str(raw, "target_engineer")
    if engineer and not _EMAIL.fullmatch(engineer):
        problems.append(
            "Named engineer: give their e-mail address (name@company.com), so the card can "
            "@mention them."
        )
    reason_text = _str(raw, "reason_text")
    if reason is TransferReason.OTHER and len(reason_text) < 10:
        problems.append("Reason in your words: say why this case needs a handoff.")
    if len(reason_text) > MAX_REASON_TEXT:
        problems.append(
            f"Reason in your words: keep it under {MAX_REASON_TEXT} characters; the details "
            "belong in the notes."
        )
    if problems:
        return problems
    return TransferAnswers(
        kind=kind,
        target_region=target,
        target_engineer=_str(raw, "target_engineer"),
        reason=reason,
        reason_text=reason_text,
        customer_asked=_flag(raw, "customer_asked"),
        needs_collab_input=_flag(raw, "needs_collab_input"),
        resolved_pending=_flag(raw, "resolved_pending"),
        severity_raise=_flag(raw, "severity_raise"),
    )


# --- the smaller questions -------------------------------------------------------------------


def existing_card(handoff: Handoff, zone_name: str) -> Json:
    requested = format_in_zone(handoff.created_at, zone_name)
    who = handoff.requester.name or "someone"
    body = [
        heading(f"Case {handoff.case.number} already has an open handoff"),
        text(
            f"{who} requested it on {requested}; it is {handoff.state.value}, going to "
            f"{handoff.target_region}. Update that handoff instead of starting a second one?"
        ),
    ]
    return card(body, _buttons("existing", first=True, next_title="Update it"))


def checklist_card(case: Case, raw: Raw, problems: Sequence[str]) -> Json:
    body = [
        heading(f"Transfer of case {case.number} within your region: before you reassign"),
        *problems_block(problems),
        text("Your notes are updated. Also:"),
        *(toggle(m.value, m.label, _flag(raw, m.value)) for m in MustDo),
    ]
    return card(body, _buttons("checklist"))


def read_checklist(raw: Raw) -> list[str]:
    """R-TRANSFER's must-dos, each a problem until done."""
    return missing_must_dos({m for m in MustDo if _flag(raw, m.value)})


def meeting_card(
    case: Case,
    meeting_text: str,
    sme_text: str,
    raw: Raw,
    problems: Sequence[str],
    *,
    ask_attendance: bool,
) -> Json:
    attendance = [
        choice_set(
            "can_attend", "Can you attend it?", YES_NO, _str(raw, "can_attend"), expanded=True
        )
    ]
    body = [
        heading(f"Handoff of case {case.number}: the handoff meeting"),
        *problems_block(problems),
        text(meeting_text),
        *(attendance if ask_attendance else []),
        choice_set(
            "teammate_can_hold",
            "If not: can a teammate hold the case and attend?",
            YES_NO,
            _str(raw, "teammate_can_hold"),
            required=False,
            expanded=True,
        ),
        text_input("teammate", "The teammate's name", _str(raw, "teammate"), max_length=200),
    ]
    if sme_text:
        body.append(toggle("sme_aligned", sme_text, _flag(raw, "sme_aligned")))
    return card(body, _buttons("meeting"))


def read_meeting(raw: Raw) -> list[str]:
    problems = []
    if _str(raw, "can_attend") not in ("yes", "no"):
        problems.append("Can you attend it?: answer yes or no.")
    elif _str(raw, "can_attend") == "no":
        if _str(raw, "teammate_can_hold") not in ("yes", "no"):
            problems.append("Can a teammate hold the case?: answer yes or no.")
        elif _str(raw, "teammate_can_hold") == "yes" and not _str(raw, "teammate"):
            problems.append("The teammate's name: say who holds the case.")
    return problems


def warnings_card(case: Case, warnings: Sequence[str]) -> Json:
    body = [
        heading(f"Handoff of case {case.number}: before you go on"),
        {"type": "Container", "style": "warning", "items": [text(w) for w in warnings]},
        text("Go back to change your answers, or continue if you are sure.", subtle=True),
    ]
    return card(body, _buttons("warnings", next_title="Continue anyway"))


def review_card(handoff_case: Case, outputs: HandoffOutputs, *, updating: bool) -> Json:
    mail_note = (
        "Send it now: the case goes back to the queue at the end of your hours."
        if outputs.send_mail_now
        else "Send it only if the case is not taken over as planned."
    )
    body = [
        heading(f"Handoff of case {handoff_case.number}: check and confirm"),
        text("Next step", weight="Bolder"),
        text(outputs.next_step),
        text("Internal title", weight="Bolder"),
        copyable("internal_title", "Copy the internal title into the case tool", outputs.title),
        text("E-mail to the duty manager", weight="Bolder"),
        facts([("To", outputs.mail_to), ("Subject", outputs.mail_subject)]),
        text(mail_note, subtle=True),
    ]
    notes_title = text("Notes for the case tool", weight="Bolder")
    message_title = text("Message for the customer", weight="Bolder")
    actions = [
        submit(
            "Update the handoff" if updating else "Request the handoff",
            {"form": "review", "action": "next"},
            style="positive",
        ),
        open_url("Open the e-mail", outputs.mailto_url),
        submit("Back", {"form": "review", "action": "back"}, validate=False),
        submit("Cancel", {"form": "review", "action": "cancel"}, validate=False),
    ]
    # What the rest of the card leaves for the two texts, measured as Teams counts it.
    room = CARD_LIMIT_BYTES - utf16_bytes(card([*body, notes_title, message_title], actions))
    notes, message = _copy_views(outputs.notes_text, outputs.customer_message, room)
    return card([*body, notes_title, notes, message_title, message], actions)


def _copy_box(input_id: str, label: str, value: str) -> Json:
    return text_input(input_id, label, value, multiline=True, max_length=max(len(value), 1))


def _copy_views(notes_text: str, message: str, room: int) -> tuple[Json, Json]:
    """The notes and the customer's message line for line, as they will be pasted; when that is
    more than the card has room for (each line is an element of its own), the notes and then
    the message in one box each, to select and copy: the same text in a fraction of the room."""
    notes_lines, message_lines = verbatim(notes_text, monospace=True), verbatim(message)
    notes_box = _copy_box(
        "notes_text", "The notes (long: select them all here and copy)", notes_text
    )
    message_box = _copy_box("customer_message", "The message (select it all and copy)", message)
    tries = ((notes_lines, message_lines), (notes_box, message_lines), (notes_box, message_box))
    for notes, shown in tries:
        if utf16_bytes(notes) + utf16_bytes(shown) <= room:
            return notes, shown
    return notes_box, message_box
