"""Whether and how a case may be handed off: R-24x7 step 1, R-NON24x7 step 1, R-DONT, R-TRANSFER.

Pure checks the dialog runs before it asks for notes. They return booleans and warning texts;
whether a warning stops the handoff or only asks for confirmation is the dialog's decision.
"""

from __future__ import annotations

import re
from enum import StrEnum

from i18n import N_, _

from .models import Case, Severity


class TransferScope(StrEnum):
    WITHIN_REGION = "within region"
    BETWEEN_REGIONS = "between regions"
    ANY = "any"


class TransferReason(StrEnum):
    """The accepted reasons of R-TRANSFER (seed 001), plus OTHER with a written justification."""

    EXTENDED_TIME_OFF = "extended-time-off"
    OUT_WITH_URGENT_ISSUE = "out-with-urgent-issue"
    NEEDS_SME = "needs-sme"
    CONTINUAL_SUPPORT = "continual-support"
    CUSTOMER_TIME_ZONE = "customer-time-zone"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _(_LABELS[self])

    @property
    def scope(self) -> TransferScope:
        return _SCOPES[self]

    @property
    def is_leave(self) -> bool:
        """Whether the reason is the owner being away (R-DONT: not a reason for the queue)."""
        return self in (TransferReason.EXTENDED_TIME_OFF, TransferReason.OUT_WITH_URGENT_ISSUE)


_LABELS: dict[TransferReason, str] = {
    TransferReason.EXTENDED_TIME_OFF: N_(
        "I am taking extended time off and the case cannot be closed"
    ),
    TransferReason.OUT_WITH_URGENT_ISSUE: N_(
        "I will be out for a couple of days and an urgent issue needs watching"
    ),
    TransferReason.NEEDS_SME: N_("High-priority case that needs a subject matter expert"),
    TransferReason.CONTINUAL_SUPPORT: N_("High-priority case that needs continual support"),
    TransferReason.CUSTOMER_TIME_ZONE: N_("Customer needs support in a time zone I cannot serve"),
    TransferReason.OTHER: N_("Other (explain in the notes)"),
}

_SCOPES: dict[TransferReason, TransferScope] = {
    TransferReason.EXTENDED_TIME_OFF: TransferScope.WITHIN_REGION,
    TransferReason.OUT_WITH_URGENT_ISSUE: TransferScope.WITHIN_REGION,
    TransferReason.NEEDS_SME: TransferScope.WITHIN_REGION,
    TransferReason.CONTINUAL_SUPPORT: TransferScope.BETWEEN_REGIONS,
    TransferReason.CUSTOMER_TIME_ZONE: TransferScope.BETWEEN_REGIONS,
    TransferReason.OTHER: TransferScope.ANY,
}


def qualifies_as_24x7(case: Case) -> bool:
    """R-24x7 step 1: only a Sev A case whose customer works around the clock is critical."""
    return case.is_critical


def downgrade_hint(case: Case) -> str | None:
    """What to do instead of the 24x7 flow when the case does not qualify; None when it does."""
    if qualifies_as_24x7(case):
        return None
    if case.severity is Severity.A:
        return _(
            "This Sev A case is not marked 24x7, so it does not qualify for the 24x7 handoff. "
            "If the customer can work around the clock, mark it 24x7; otherwise consider "
            "downgrading it to Sev B (Case Severity Management) and use the non-24x7 handoff."
        )
    # Translators: {severity} is a letter, A to C.
    return _(
        "Only Sev A cases with a customer available 24x7 use the 24x7 handoff; this is a "
        "Sev {severity} case, so use the non-24x7 handoff."
    ).format(severity=case.severity.value)


def justification_required(customer_asked: bool, meets_criteria: bool) -> bool:
    """R-NON24x7 step 1 and seed 002: notes must say why when the handoff is not self-evident.

    A customer's own request is itself the reason (R-DONT lists "transfer as soon as possible
    when the customer prefers another region" as a do), so only a handoff neither asked for nor
    meeting the criteria needs a written justification.
    """
    return not customer_asked and not meets_criteria


# Words that mark a free-text reason as the owner's leave, for callers that have no
# TransferReason (OTHER with text, or a reason typed in a chat).
_LEAVE_WORDS = re.compile(
    r"\b(?:leave|vacation|holiday|holidays|pto|oof|ooo|out of (?:the )?office|time off|"
    r"day off|days off|sick)\b",
    re.IGNORECASE,
)

# Marked here, translated by dont_warnings.
LEAVE_WARNING = N_(
    "Don't send a case back to the queue because you are taking leave: ask a teammate to take "
    "it and set your out-of-office replies. Use the out-of-office handoff instead."
)
RESOLVED_WARNING = N_(
    "Don't send a case back to the queue when the solution was delivered and only the "
    "customer's closure confirmation is pending: keep it until the customer confirms."
)
SEVERITY_WARNING = N_(
    "Don't suggest the customer raise the severity only to get resources faster; the severity "
    "must match the business impact."
)


def is_leave_reason(reason: str | TransferReason) -> bool:
    if isinstance(reason, TransferReason):
        return reason.is_leave
    return bool(_LEAVE_WORDS.search(reason))


def dont_warnings(
    case_status_resolved_pending_confirmation: bool,
    reason: str | TransferReason,
    severity_raise_for_speed: bool,
    target_is_queue: bool,
) -> list[str]:
    """The R-DONT warnings that apply, in the order the spec lists them; empty when none.

    The leave and resolved-pending rules are about the queue only (handing a case to a named
    teammate while on leave is exactly what the spec asks for); the severity rule always applies.
    """
    warnings: list[str] = []
    if target_is_queue and is_leave_reason(reason):
        warnings.append(LEAVE_WARNING)
    if target_is_queue and case_status_resolved_pending_confirmation:
        warnings.append(RESOLVED_WARNING)
    if severity_raise_for_speed:
        warnings.append(SEVERITY_WARNING)
    return [_(warning) for warning in warnings]


def needs_justification(
    case: Case, reason: TransferReason, customer_asked: bool, within_region: bool
) -> bool:
    """R-NON24x7 step 1: a non-critical handoff the customer did not ask for must say why in
    its notes unless its reason is an accepted one for where it goes (R-TRANSFER)."""
    if case.is_critical:
        return False
    wanted = TransferScope.WITHIN_REGION if within_region else TransferScope.BETWEEN_REGIONS
    meets_criteria = reason is not TransferReason.OTHER and reason.scope in (
        wanted,
        TransferScope.ANY,
    )
    return justification_required(customer_asked, meets_criteria)


class MustDo(StrEnum):
    """R-TRANSFER: what is done before a case is reassigned within a region (besides notes)."""

    SUPERVISOR_CONSULTED = "supervisor_consulted"
    RECEIVER_SPOKEN_TO = "receiver_spoken_to"
    CUSTOMER_TOLD = "customer_told"

    @property
    def label(self) -> str:
        return _(_MUST_DO_LABELS[self])


_MUST_DO_LABELS = {
    MustDo.SUPERVISOR_CONSULTED: N_("I consulted my supervisor on who takes the case and why"),
    MustDo.RECEIVER_SPOKEN_TO: N_("I spoke to the receiving engineer"),
    MustDo.CUSTOMER_TOLD: N_("I told the customer"),
}
# What is said of a must-do not done yet.
_NOT_YET = {
    MustDo.SUPERVISOR_CONSULTED: N_(
        "Not yet: consulted my supervisor on who takes the case and why."
    ),
    MustDo.RECEIVER_SPOKEN_TO: N_("Not yet: spoke to the receiving engineer."),
    MustDo.CUSTOMER_TOLD: N_("Not yet: told the customer."),
}


def missing_must_dos(done: set[MustDo]) -> list[str]:
    """What still stands between the owner and the reassignment, each said plainly."""
    missing = [_(_NOT_YET[m]) for m in MustDo if m not in done]
    nobody_found = _(
        "If nobody can take the case, talk to your supervisor; never transfer it to your "
        "supervisor without asking first."
    )
    return [*missing, nobody_found] if missing else []
