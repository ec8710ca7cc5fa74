"""The handoff record and what it is made of (spec section 3)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import uuid4

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from i18n.languages import ENGLISH, LANGUAGES

from .schedule import check_zone


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive time is refused, since its zone would be a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamps must carry a time zone")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]

CASE_NUMBER_PATTERN = r"^\d{6,20}$"
CaseNumber = Annotated[str, Field(pattern=CASE_NUMBER_PATTERN)]
RegionCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,15}$")]


class Frozen(BaseModel):
    # JSON read from the store: only keys go through pydantic's process-wide cache of
    # strings. Values (ids, names, times) rarely repeat, and cached they would fill its
    # 16,384 places with the strings of whatever was read last, a megabyte or two kept.
    model_config = ConfigDict(frozen=True, extra="forbid", cache_strings="keys")


class Severity(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class SupportPlan(StrEnum):
    PREMIER = "Premier"
    PROFESSIONAL = "Professional"
    UNIFIED = "Unified"


class CaseStatus(StrEnum):
    IN_PROGRESS = "in progress"
    WAITING_ON_CUSTOMER = "waiting on customer"
    WAITING_ON_VENDOR = "waiting on vendor"
    WAITING_ON_ESCALATION_TEAM = "waiting on escalation team"


class PendingOn(StrEnum):
    PG = "PG"
    CSS = "CSS"
    CUSTOMER = "customer"


class HandoffKind(StrEnum):
    """Which flow of the spec a handoff follows."""

    CRITICAL_24X7 = "24x7"
    NON_24X7 = "non-24x7"
    COLLABORATION = "collaboration"
    WITHIN_REGION = "within-region"


class HandoffState(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    MORE_INFO_NEEDED = "more-info-needed"
    BACK_TO_QUEUE = "back-to-queue"
    ESCALATED = "escalated"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self not in (HandoffState.ACCEPTED, HandoffState.CANCELLED)


class Person(Frozen):
    """Someone the bot knows by their Teams identity."""

    id: Annotated[str, Field(min_length=1, max_length=256)]
    name: Annotated[str, Field(max_length=256)] = ""
    aad_object_id: str | None = None


def check_language(code: str) -> str:
    """A language the bot writes in (i18n.languages), by its code."""
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}; use one of {', '.join(LANGUAGES)}")
    return code


class Case(Frozen):
    number: CaseNumber
    severity: Severity
    is_24x7: bool
    plan: SupportPlan
    product_skill: Annotated[str, Field(min_length=1, max_length=200)]
    customer_region: RegionCode
    customer_timezone: Annotated[str, AfterValidator(check_zone)]
    status: CaseStatus = CaseStatus.IN_PROGRESS
    title: Annotated[str, Field(max_length=500)] = ""
    pending_on: PendingOn | None = None
    language_needs: str | None = None
    # The language the customer is written to in (the message drafted for them).
    customer_language: Annotated[str, AfterValidator(check_language)] = ENGLISH.code

    @property
    def is_critical(self) -> bool:
        return self.severity is Severity.A and self.is_24x7


class StepTried(Frozen):
    step: Annotated[str, Field(min_length=1)]
    outcome: Annotated[str, Field(min_length=1)]


class NextContact(Frozen):
    """When the customer hears from us next, and who waits for whom."""

    at: UtcDatetime
    who_waits: Annotated[str, Field(min_length=1)]


class Checklist(Frozen):
    customer_reachable: bool | None = None
    waiting_for_rca: bool | None = None
    accepts_english: bool | None = None
    pending_on: PendingOn | None = None
    icm_id: str | None = None
    critsit_reason: str | None = None


class HandoffNotes(Frozen):
    """The union of the seeds' note templates (R-NOTES); quality rules live apart."""

    summary: str = ""
    # Seed 001's REASON: the value of the handoff to the customer; required in the notes when
    # the handoff is neither asked for nor one of the accepted reasons (R-NON24x7).
    reason: str | None = None
    issue: str = ""
    steps_tried: tuple[StepTried, ...] = ()
    next_steps_customer: tuple[str, ...] = ()
    next_steps_us: tuple[str, ...] = ()
    icm_or_partner_ticket: str | None = None
    research: tuple[str, ...] = ()
    checklist: Checklist = Checklist()
    next_customer_contact: NextContact | None = None
    root_cause: str | None = None
    blockers: str | None = None
    sla_urgency: str | None = None
    # Questions the receiving side asked on the card, with the requester's answers.
    questions_answered: tuple[str, ...] = ()


class HandoffOutputs(Frozen):
    """What the engineer takes away from the handoff dialog (R-TITLE, R-MAIL, R-CUSTOMER)."""

    title: str
    mail_to: str
    mail_subject: str
    mail_body: str
    mailto_url: str
    notes_text: str
    customer_message: str
    next_step: str
    # The flowchart boxes passed on the way to the next step, for the audit trail.
    path: tuple[str, ...] = ()
    send_mail_now: bool = False


class Handoff(Frozen):
    """One request to move a case to another engineer or region."""

    id: str = Field(default_factory=lambda: uuid4().hex)
    case: Case
    kind: HandoffKind
    requester: Person
    from_region: RegionCode
    target_region: RegionCode
    target_engineer: Person | None = None
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    # The accepted reason chosen (R-TRANSFER), if any, and whether the customer asked.
    reason_code: str | None = None
    customer_asked: bool = False
    notes: HandoffNotes = HandoffNotes()
    outputs: HandoffOutputs | None = None
    # The receiving side's question while the handoff waits for more information.
    open_question: str | None = None
    # Why the case is long-running (R-LONG), once it is.
    long_running: str | None = None
    # The highest technical escalation level the case has reached (R-ESC), if any; it goes
    # with the case into its later handoffs.
    technical_level: str | None = None
    state: HandoffState = HandoffState.REQUESTED
    owner: Person | None = None
    version: int = 1
    created_at: UtcDatetime
    # Every change moves updated_at; this moves only when the state does (None in records
    # written before it was kept), so the card says since when the handoff is in its state.
    state_since: UtcDatetime | None = None
    updated_at: UtcDatetime

    @field_validator("version")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("version starts at 1")
        return value


def latest_of(handoffs: Iterable[Handoff]) -> Handoff | None:
    """Of a case's handoffs, the one its status is about: the open one, or else the most
    recent (HandoffRepository.latest_for_case asks its database the same)."""
    return max(
        handoffs, key=lambda handoff: (handoff.state.is_open, handoff.created_at), default=None
    )


class AuditEvent(Frozen):
    """An append-only fact: who did what to which handoff, and when."""

    id: str = Field(default_factory=lambda: uuid4().hex)
    handoff_id: str
    case_number: CaseNumber
    kind: str
    actor: Person
    at: UtcDatetime
    from_state: HandoffState | None = None
    to_state: HandoffState | None = None
    conversation_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class AuditKind(StrEnum):
    CHANNEL_BOUND = "channel_bound"
    SETTINGS_CHANGED = "settings_changed"
    # The handoff dialog's notes refused by the quality check (`subject`: the case number,
    # `data["fixes"]`: the fields of the notes to fix), for `insights`.
    NOTES_REFUSED = "notes_refused"

    @property
    def explains_what_is_in_force(self) -> bool:
        """Whether the latest entry of the kind (per subject) says what is in force today, and
        so outlives the retention period until a later one supersedes it."""
        return self in (AuditKind.CHANNEL_BOUND, AuditKind.SETTINGS_CHANGED)


class AuditEntry(Frozen):
    """An audited change that belongs to no handoff, kept append-only like AuditEvent: the
    Case Transfer channel bound (`subject`: the channel), a person's settings changed
    (`subject`: the person's id), a handoff's notes refused (`subject`: the case number)."""

    id: str = Field(default_factory=lambda: uuid4().hex)
    kind: AuditKind
    actor: Person
    at: UtcDatetime
    subject: Annotated[str, Field(min_length=1)]
    data: dict[str, Any] = Field(default_factory=dict)


def case_number_from(text: str) -> str | None:
    """The case number a person typed, spaces and dashes dropped; None when it is not one."""
    candidate = re.sub(r"[\s-]", "", text)
    return candidate if re.fullmatch(CASE_NUMBER_PATTERN, candidate) else None


# A case number written in a message: after the word "case" (Case 2311230040001234, case no.
# 2311-2300-4000-1234, Case #…), its digits may come in groups of three or more split by a
# space or a dash; standing alone, only an unbroken run counts (a date or a time is not one).
_LABELLED_NUMBER = re.compile(
    r"\bcase(?:[ \t]*(?:number|no\.?|nr\.?|id))?[ \t]*[:#]?[ \t]*(\d{3,20}(?:[ -]\d{3,20}){0,6})",
    re.IGNORECASE,
)
# Not part of a longer word, number, link or date ("/cases/123456", "v1.123456", "12:30").
_BARE_NUMBER = re.compile(r"(?<![\w.:/#-])(\d{6,20})(?![\w:/-]|\.\d)")
# Numbers that are something else by the words just before them on their line.
_OTHER_NUMBER = re.compile(
    r"\b(?:icm|ticket|incident|phone|tel|fax|mobile)\b[^a-z\n]{0,20}$", re.IGNORECASE
)


def case_number_in(text: str) -> str | None:
    """The case number a message names: the first one written after the word "case", else
    the one number of case length it holds (none when it holds several: which one would be a
    guess, and the handoff form asks instead)."""
    for match in _LABELLED_NUMBER.finditer(text):
        number = case_number_from(match[1])
        if number is not None:
            return number
    found = {
        match[1]
        for match in _BARE_NUMBER.finditer(text)
        if not _OTHER_NUMBER.search(text[max(match.start() - 30, 0) : match.start()])
    }
    return found.pop() if len(found) == 1 else None


CASE_PLACEHOLDER = "{case}"


def case_url(template: str, number: str) -> str:
    """The case's page in the case system (case_system.url_template, with its {case})."""
    return template.replace(CASE_PLACEHOLDER, number)


def case_from_url(template: str, url: str) -> str | None:
    """The case number of a link to a case's page made from `template` (any letter case in
    its scheme and host; a trailing slash, a further path, a query or a fragment allowed);
    None when the link is not one of those."""
    before, placeholder, after = template.partition(CASE_PLACEHOLDER)
    if not placeholder:
        return None
    pattern = re.escape(before) + r"([\d-]{6,40})" + re.escape(after) + r"(?:[/?#&;]\S*)?"
    match = re.fullmatch(pattern, url.strip(), re.IGNORECASE)
    return case_number_from(match[1]) if match else None
