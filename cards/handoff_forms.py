"""The handoff dialog's forms: each a card builder and a reader of what the card sends back.

Readers turn the card's strings into domain values and say, per field, what to fix; the rules
themselves (quality, policy) stay in handoff/. The first form, the case, is in case_form.py (its
card and reader are named here too, where the dialog looks for them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from handoff.models import (
    Case,
    Handoff,
    HandoffOutputs,
)
from handoff.policy import MustDo, TransferReason, missing_must_dos
from i18n import N_, _, formats, in_english
from i18n.languages import ENGLISH, LANGUAGES

from .case_form import CaseAnswers as CaseAnswers
from .case_form import case_card as case_card
from .case_form import language_name
from .case_form import read_case as read_case
from .case_form import time_zone_choices as time_zone_choices
from .elements import (
    Json,
    card,
    choice_set,
    copyable,
    facts,
    heading,
    name_text,
    open_url,
    problems_block,
    submit,
    text,
    text_input,
    toggle,
    verbatim,
)
from .fit import CARD_LIMIT_BYTES, utf16_bytes
from .form_parts import MAX_REASON_TEXT, Raw, yes_no
from .form_parts import form_buttons as _buttons
from .form_parts import raw_flag as _flag
from .form_parts import raw_text as _str
from .handoff_words import state_words

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# The kinds of handoff the transfer form offers, titled where shown (transfer_kinds).
_TRANSFER_KINDS: tuple[tuple[str, str], ...] = (
    ("between", N_("Hand the case to another region")),
    ("within", N_("Transfer within my region")),
    ("collab", N_("Collaboration handoff (another team works on it with me)")),
)


def transfer_kinds() -> tuple[tuple[str, str], ...]:
    return tuple((key, _(title)) for key, title in _TRANSFER_KINDS)


def _reasons() -> tuple[tuple[str, str], ...]:
    return tuple((reason.value, reason.label) for reason in TransferReason)


# --- transfer --------------------------------------------------------------------------------


def transfer_card(case: Case, regions: Sequence[str], raw: Raw, problems: Sequence[str]) -> Json:
    region_choices = [(code, code) for code in regions]
    body: list[Json] = [
        heading(_("Handoff of case {number}: where it goes, and why").format(number=case.number)),
        *problems_block(problems),
        choice_set(
            "kind", _("Kind of handoff"), transfer_kinds(), _str(raw, "kind"), expanded=True
        ),
        choice_set(
            "target_region", _("Receiving region"), region_choices, _str(raw, "target_region")
        ),
        text_input(
            "target_engineer",
            _(
                "E-mail of a named engineer for a warm handoff (optional: next tech, escalation "
                "team, vendor queue)"
            ),
            _str(raw, "target_engineer"),
            max_length=200,
        ),
        choice_set("reason", _("Reason"), _reasons(), _str(raw, "reason"), expanded=True),
        text_input(
            "reason_text",
            _("Reason in your words (required for Other; what the customer gains)"),
            _str(raw, "reason_text"),
            multiline=True,
            max_length=MAX_REASON_TEXT,
        ),
        toggle(
            "customer_asked",
            _("The customer asked for this handoff"),
            _flag(raw, "customer_asked"),
        ),
        toggle(
            "needs_collab_input",
            _("Collaboration: I still need input from the collaborating team"),
            _flag(raw, "needs_collab_input"),
        ),
        toggle(
            "resolved_pending",
            _("The solution was delivered; only the customer's closure confirmation is pending"),
            _flag(raw, "resolved_pending"),
        ),
        toggle(
            "severity_raise",
            _("I suggested the customer raise the severity to get help faster"),
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
        """The handoff's reason as its record keeps it: it goes into the notes, which are in
        English whatever language the form was in (tools read them)."""
        if self.reason is TransferReason.OTHER:
            return self.reason_text
        with in_english():
            label = self.reason.label
        return f"{label}. {self.reason_text}".strip() if self.reason_text else label


def read_transfer(
    raw: Raw, regions: Sequence[str], owner_region: str
) -> TransferAnswers | list[str]:
    problems: list[str] = []
    kind = _str(raw, "kind")
    kinds = dict(transfer_kinds())
    if kind not in kinds:
        problems.append(_("Kind of handoff: choose one."))
    target = _str(raw, "target_region")
    if kind == "within":
        target = target or owner_region
        if target != owner_region:
            problems.append(
                _("Receiving region: a transfer within your region stays in {region}.").format(
                    region=owner_region
                )
            )
    elif target not in regions:
        problems.append(_("Receiving region: choose where the case goes."))
    elif kind == "between" and target == owner_region:
        problems.append(
            # Translators: {within} is the kind of handoff "Transfer within my region".
            _(
                "Receiving region: {region} is your own region; choose another region, or "
                "“{within}”."
            ).format(region=target, within=kinds["within"])
        )
    try:
        reason = TransferReason(_str(raw, "reason"))
    except ValueError:
        problems.append(_("Reason: choose one of the accepted reasons, or Other."))
        reason = TransferReason.OTHER
    engineer = _str(raw, "target_engineer")
    if engineer and not _EMAIL.fullmatch(engineer):
        problems.append(
            _(
                "Named engineer: give their e-mail address (name@company.com), so the card can "
                "@mention them."
            )
        )
    reason_text = _str(raw, "reason_text")
    if reason is TransferReason.OTHER and len(reason_text) < 10:
        problems.append(_("Reason in your words: say why this case needs a handoff."))
    if len(reason_text) > MAX_REASON_TEXT:
        problems.append(
            _(
                "Reason in your words: keep it under {count} characters; the details belong in "
                "the notes."
            ).format(count=formats.number(MAX_REASON_TEXT))
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
    requested = formats.when(handoff.created_at, zone_name)
    who = name_text(handoff.requester.name) if handoff.requester.name else _("someone")
    body = [
        heading(_("Case {number} already has an open handoff").format(number=handoff.case.number)),
        text(
            # Translators: {state} is where the handoff stands, e.g. "more info needed".
            _(
                "{name} requested it on {time}; it is {state}, going to {region}. Update that "
                "handoff instead of starting a second one?"
            ).format(
                name=who,
                time=requested,
                state=state_words(handoff.state, inline=True),
                region=handoff.target_region,
            )
        ),
    ]
    return card(body, _buttons("existing", first=True, next_title=_("Update it")))


def checklist_card(case: Case, raw: Raw, problems: Sequence[str]) -> Json:
    body = [
        heading(
            _("Transfer of case {number} within your region: before you reassign").format(
                number=case.number
            )
        ),
        *problems_block(problems),
        text(_("Your notes are updated. Also:")),
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
            "can_attend", _("Can you attend it?"), yes_no(), _str(raw, "can_attend"), expanded=True
        )
    ]
    body = [
        heading(_("Handoff of case {number}: the handoff meeting").format(number=case.number)),
        *problems_block(problems),
        text(meeting_text),
        *(attendance if ask_attendance else []),
        choice_set(
            "teammate_can_hold",
            _("If not: can a teammate hold the case and attend?"),
            yes_no(),
            _str(raw, "teammate_can_hold"),
            required=False,
            expanded=True,
        ),
        text_input("teammate", _("The teammate's name"), _str(raw, "teammate"), max_length=200),
    ]
    if sme_text:
        body.append(toggle("sme_aligned", sme_text, _flag(raw, "sme_aligned")))
    return card(body, _buttons("meeting"))


def read_meeting(raw: Raw) -> list[str]:
    problems = []
    if _str(raw, "can_attend") not in ("yes", "no"):
        problems.append(_("Can you attend it?: answer yes or no."))
    elif _str(raw, "can_attend") == "no":
        if _str(raw, "teammate_can_hold") not in ("yes", "no"):
            problems.append(_("Can a teammate hold the case?: answer yes or no."))
        elif _str(raw, "teammate_can_hold") == "yes" and not _str(raw, "teammate"):
            problems.append(_("The teammate's name: say who holds the case."))
    return problems


def warnings_card(case: Case, warnings: Sequence[str]) -> Json:
    body = [
        heading(_("Handoff of case {number}: before you go on").format(number=case.number)),
        {"type": "Container", "style": "warning", "items": [text(w) for w in warnings]},
        text(_("Go back to change your answers, or continue if you are sure."), subtle=True),
    ]
    return card(body, _buttons("warnings", next_title=_("Continue anyway")))


def review_card(handoff_case: Case, outputs: HandoffOutputs, *, updating: bool) -> Json:
    mail_note = (
        _("Send it now: the case goes back to the queue at the end of your hours.")
        if outputs.send_mail_now
        else _("Send it only if the case is not taken over as planned.")
    )
    body = [
        heading(
            _("Handoff of case {number}: check and confirm").format(number=handoff_case.number)
        ),
        text(_("Next step"), weight="Bolder"),
        text(outputs.next_step),
        text(_("Internal title"), weight="Bolder"),
        copyable("internal_title", _("Copy the internal title into the case tool"), outputs.title),
        text(_("E-mail to the duty manager"), weight="Bolder"),
        facts([(_("To"), outputs.mail_to), (_("Subject"), outputs.mail_subject)]),
        text(mail_note, subtle=True),
    ]
    notes_title = text(_("Notes for the case tool"), weight="Bolder")
    language = LANGUAGES.get(handoff_case.customer_language, ENGLISH)
    message_title = text(
        # Translators: {language} is the language the message is written in, e.g. "German".
        _("Message for the customer (in {language})").format(language=language_name(language.code))
        if language is not ENGLISH
        else _("Message for the customer"),
        weight="Bolder",
    )
    actions = [
        submit(
            _("Update the handoff") if updating else _("Request the handoff"),
            {"form": "review", "action": "next"},
            style="positive",
        ),
        open_url(_("Open the e-mail"), outputs.mailto_url),
        *_buttons("review")[1:],
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
        "notes_text", _("The notes (long: select them all here and copy)"), notes_text
    )
    message_box = _copy_box("customer_message", _("The message (select it all and copy)"), message)
    tries = ((notes_lines, message_lines), (notes_box, message_lines), (notes_box, message_box))
    for notes, shown in tries:
        if utf16_bytes(notes) + utf16_bytes(shown) <= room:
            return notes, shown
    return notes_box, message_box
