"""The texts a handoff produces for others: internal title, DM e-mail, customer message.

R-TITLE, R-MAIL and R-CUSTOMER of the spec. Everything here is pure text assembly; sending the
e-mail or updating the case tool is the caller's business.

Decisions where the spec and seeds leave room (spec section 6, seed 000):

- Plan in the e-mail subject: the seed's placeholder is ``<Prem/Pro>``, so Premier is "Prem"
  and Professional is "Pro". Unified has no abbreviation in any seed; it is written out as
  "Unified" rather than invented, so the DM reads a word they know.
- Severity in the subject: the seed only gives the placeholder ``<Severity>``; we write
  "Sev A" / "Sev B" / "Sev C", the form the seeds use in prose ("Sev A and B 24x7 case").
  24x7 is not added: it is not part of the placeholder and the subject must match exactly.
- Region in the subject: ``<APAC/IST/EMEA/US SE>`` becomes "US SE", "APAC SE", ...
- The ``mailto:`` link: Outlook and Windows stop opening a link of about 2,000 characters,
  and notes make it far longer. ``Mail.body`` always holds the whole e-mail; when the link
  would pass ``MAX_MAILTO_CHARS``, it carries the exact subject and a short body (the case's
  facts and where the full notes are) instead, so the link always opens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from i18n import _, formats, speaking

from ..models import Case, Severity, SupportPlan

_REGION = re.compile(r"^[A-Z][A-Z0-9_]{0,15}$")

# Any number of leading "<Need XXX SE>" prefixes, however spaced or cased, so a title that was
# prefixed by hand (or twice by mistake) ends up with exactly one, for the new region.
_TITLE_PREFIX = re.compile(r"^\s*(?:<\s*need\s+[^<>]*?\s+se\s*>\s*)+", re.IGNORECASE)

# Outlook and Windows stop opening a mailto: link at about 2,000 characters.
MAX_MAILTO_CHARS = 2000
NOTES_ELSEWHERE = (
    "The full hand-over notes are in the case and in the handoff bot's summary; they are too "
    "long for this link."
)

PLAN_ABBREVIATIONS: dict[SupportPlan, str] = {
    SupportPlan.PREMIER: "Prem",
    SupportPlan.PROFESSIONAL: "Pro",
    SupportPlan.UNIFIED: "Unified",
}


def _region(target_region: str) -> str:
    region = target_region.strip().upper()
    if not _REGION.match(region):
        raise ValueError(f"target region {target_region!r} is not a region code such as 'US'")
    return region


def title_prefix(target_region: str) -> str:
    """The ``<Need XXX SE>`` prefix for a region (R-TITLE)."""
    return f"<Need {_region(target_region)} SE>"


def internal_title(case_title: str, target_region: str) -> str:
    """The internal case title with exactly one ``<Need XXX SE>`` prefix, for ``target_region``.

    Idempotent: an existing prefix, for this or another region, is replaced, never stacked.
    """
    prefix = title_prefix(target_region)
    rest = _TITLE_PREFIX.sub("", case_title).strip()
    return f"{prefix} {rest}" if rest else prefix


def severity_text(severity: Severity) -> str:
    return f"Sev {severity.value}"


def reassignment_subject(case: Case, target_region: str, subject_prefix: str) -> str:
    """The DM e-mail subject, exactly as spec section 6 gives it (R-MAIL)."""
    prefix = " ".join(subject_prefix.split())
    if not prefix:
        raise ValueError("the subject prefix must not be blank; it comes from the queue config")
    return (
        f"{prefix} {PLAN_ABBREVIATIONS[case.plan]} {severity_text(case.severity)} {case.number}"
        f" to {_region(target_region)} SE - Skill: {' '.join(case.product_skill.split())}"
    )


@dataclass(frozen=True)
class Mail:
    """A drafted e-mail; ``mailto_url`` opens it in the user's mail client."""

    to: str
    subject: str
    body: str
    mailto_url: str


def mailto_url(to: str, subject: str, body: str) -> str:
    """A ``mailto:`` URL (RFC 6068): every part percent-encoded, line breaks as CRLF."""
    # RFC 6068 asks for CRLF line breaks in the body; mail clients turn a bare LF into nothing.
    crlf_body = body.replace("\r\n", "\n").replace("\n", "\r\n")
    return (
        f"mailto:{quote(to.strip(), safe='@')}"
        f"?subject={quote(subject, safe='')}&body={quote(crlf_body, safe='')}"
    )


def reassignment_mail(
    case: Case, target_region: str, queue_address: str, subject_prefix: str, notes_text: str
) -> Mail:
    """The e-mail asking the DM to reassign the case to ``target_region`` (R-MAIL)."""
    address = queue_address.strip()
    if not address:
        raise ValueError("the queue address must not be blank; it comes from the queue config")
    region = _region(target_region)
    subject = reassignment_subject(case, region, subject_prefix)
    facts = [
        "Hello,",
        "",
        f"Please reassign case {case.number} to an engineer in {region}.",
        f"Severity: {severity_text(case.severity)}{' 24x7' if case.is_24x7 else ''}",
        f"Plan: {case.plan.value}",
        f"Skill: {case.product_skill}",
        f"Customer time zone: {case.customer_timezone}",
    ]
    if case.language_needs:
        facts.append(f"Language needs: {case.language_needs}")
    body = "\n".join([*facts, "", "Hand-over notes:", "", notes_text.strip(), "", "Thank you."])
    url = mailto_url(address, subject, body)
    if len(url) > MAX_MAILTO_CHARS:
        short_body = "\n".join([*facts, "", NOTES_ELSEWHERE, "", "Thank you."])
        url = mailto_url(address, subject, short_body)
    if len(url) > MAX_MAILTO_CHARS:
        # Only a skill or queue prefix far longer than any real one gets here. The subject is
        # never cut, since R-MAIL wants it exact, so the link carries it alone.
        url = mailto_url(address, subject, "")
    return Mail(to=address, subject=subject, body=body, mailto_url=url)


def no_time_promised() -> str:
    """What the customer is told when no next contact was agreed."""
    return _("The new engineer will be in touch with you.")


def customer_message(
    case: Case,
    *,
    who_continues: str,
    customer_actions: list[str],
    next_update_at: datetime | None,
    zone_name: str,
) -> str:
    """A short draft telling the customer who continues, what they do, when they hear from us,
    in the customer's language (``case.customer_language``), whatever the engineer's.

    ``next_update_at`` is the next customer contact the engineer entered, shown in ``zone_name``
    (the customer's zone) with its abbreviation (R-CUSTOMER); without one, no time is promised:
    the draft commits the team only to what the engineer agreed. ``who_continues`` is written in
    the customer's language by the caller (handoff.request.who_continues, under the same
    ``speaking``).
    """
    who = who_continues.strip()
    if not who:
        raise ValueError("say who continues with the case, e.g. 'our US support engineer'")
    if next_update_at is not None and next_update_at.utcoffset() is None:
        raise ValueError("a time to show must carry a time zone")
    actions = [action.strip() for action in customer_actions if action.strip()]
    with speaking(case.customer_language):
        lines = [
            _("Hello,"),
            "",
            # Translators: {who} is who continues: a name, or "Our US support engineer".
            _("{who} will continue working on your case {number}.").format(
                who=who, number=case.number
            ),
            "",
        ]
        if actions:
            lines.append(_("What we need from you:"))
            lines += [f"- {action}" for action in actions]
        else:
            lines.append(_("You do not need to do anything for now."))
        when = (
            _("Our next update will reach you by {time}.").format(
                time=formats.when(next_update_at, zone_name)
            )
            if next_update_at is not None
            else no_time_promised()
        )
        lines += ["", when, "", _("Best regards")]
    return "\n".join(lines)
