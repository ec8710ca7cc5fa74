"""The handoff dialog's first form: the case (its severity, plan, customer, the customer's
language), the card and the reader of what it sends back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from babel import Locale
from pydantic import ValidationError

from handoff.models import Case, CaseStatus, Severity, SupportPlan
from i18n import _, formats, pgettext
from i18n.languages import ENGLISH, LANGUAGES

from .elements import (
    Json,
    card,
    choice_set,
    heading,
    problems_block,
    severity_text,
    text_input,
    toggle,
)
from .form_parts import Raw
from .form_parts import form_buttons as _buttons
from .form_parts import raw_flag as _flag
from .form_parts import raw_text as _str

_PLANS = tuple((plan.value, plan.value) for plan in SupportPlan)


def _severities() -> tuple[tuple[str, str], ...]:
    return tuple((severity.value, severity_text(severity)) for severity in Severity)


def _statuses() -> tuple[tuple[str, str], ...]:
    return tuple((status.value, status_words(status)) for status in CaseStatus)


def status_words(status: CaseStatus, *, inline: bool = False) -> str:
    """Where the case stands, in words: "Waiting on customer", or "waiting on customer"
    within a line."""
    if inline:
        words = {
            CaseStatus.IN_PROGRESS: pgettext("case status, in a line", "in progress"),
            CaseStatus.WAITING_ON_CUSTOMER: pgettext(
                "case status, in a line", "waiting on customer"
            ),
            CaseStatus.WAITING_ON_VENDOR: pgettext("case status, in a line", "waiting on vendor"),
            CaseStatus.WAITING_ON_ESCALATION_TEAM: pgettext(
                "case status, in a line", "waiting on escalation team"
            ),
        }
    else:
        words = {
            CaseStatus.IN_PROGRESS: pgettext("case status", "In progress"),
            CaseStatus.WAITING_ON_CUSTOMER: pgettext("case status", "Waiting on customer"),
            CaseStatus.WAITING_ON_VENDOR: pgettext("case status", "Waiting on vendor"),
            CaseStatus.WAITING_ON_ESCALATION_TEAM: pgettext(
                "case status", "Waiting on escalation team"
            ),
        }
    return words[status]


def language_name(code: str) -> str:
    """A language of LANGUAGES by its name in the reader's language (CLDR's, through Babel)."""
    return str(Locale.parse(code).get_display_name(formats.locale()))


def customer_languages() -> tuple[tuple[str, str], ...]:
    """The languages the customer may be written to in: each by its own name, and by its name
    in the reader's language when that differs ("Deutsch (German)")."""
    choices = []
    for code, language in LANGUAGES.items():
        name = language_name(code)
        native = language.native_name
        choices.append(
            (code, native if name.casefold() == native.casefold() else f"{native} ({name})")
        )
    return tuple(choices)


def time_zone_choices() -> tuple[tuple[str, str], ...]:
    """One zone per set of clocks that agree from now on (tzdata's zonenow.tab), west to east,
    titled with the places it covers. Short on purpose: the whole list travels in the card, and
    Teams caps a message's size."""
    return (("Etc/UTC", _("UTC — Coordinated Universal Time")), *_zone_places())


@cache
def _zone_places() -> tuple[tuple[str, str], ...]:
    # tzdata's place names are English, and data: they are shown as tzdata writes them.
    table = resources.files("tzdata.zoneinfo").joinpath("zonenow.tab").read_text(encoding="utf-8")
    choices: list[tuple[str, str]] = []
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
        message = str(item["msg"]).removeprefix("Value error, ")
        # Translators: a problem of one box of a form: "Product skill: too long".
        problems.append(_("{label}: {problem}").format(label=label, problem=message))
    return problems


# --- case ------------------------------------------------------------------------------------


def case_labels() -> dict[str, str]:
    """The case form's boxes by field, as its problems name them."""
    return {
        "number": _("Case number"),
        "title": _("Internal case title"),
        "severity": _("Severity"),
        "plan": _("Support plan"),
        "product_skill": _("Product skill"),
        "customer_region": _("Customer region"),
        "customer_timezone": _("Customer time zone"),
        "status": _("Current status"),
        "customer_language": _("Customer's language"),
        "owner_region": _("Your region"),
    }


def _customer_language(raw: Raw) -> str | None:
    """The language chosen for the customer; English when none was; None for a value the form
    never offered (a card from before a language was dropped, or a forged one)."""
    chosen = _str(raw, "customer_language") or ENGLISH.code
    return chosen if chosen in LANGUAGES else None


def case_card(case_number: str, regions: Sequence[str], raw: Raw, problems: Sequence[str]) -> Json:
    region_choices = [(code, code) for code in regions]
    body = [
        heading(_("Handoff of case {number}: the case").format(number=case_number)),
        *problems_block(problems),
        text_input(
            "title",
            _("Internal case title, as it is now"),
            _str(raw, "title"),
            required=True,
            # As long as the case record takes (handoff.models.Case.title).
            max_length=500,
        ),
        choice_set("severity", _("Severity"), _severities(), _str(raw, "severity"), expanded=True),
        toggle("is_24x7", _("The customer works 24x7 on this case"), _flag(raw, "is_24x7")),
        choice_set("plan", _("Support plan"), _PLANS, _str(raw, "plan")),
        text_input(
            "product_skill",
            _("Product skill"),
            _str(raw, "product_skill"),
            required=True,
            max_length=200,
        ),
        choice_set(
            "customer_region", _("Customer region"), region_choices, _str(raw, "customer_region")
        ),
        choice_set(
            "customer_timezone",
            _("Customer time zone"),
            time_zone_choices(),
            _str(raw, "customer_timezone"),
        ),
        choice_set("status", _("Current status"), _statuses(), _str(raw, "status")),
        choice_set(
            "customer_language",
            _("Customer's language (the message for the customer is written in it)"),
            customer_languages(),
            # A value the form does not offer is shown as English, the language it falls back to.
            _customer_language(raw) or ENGLISH.code,
        ),
        text_input(
            "language_needs",
            _("Language needs (optional, e.g. customer prefers Japanese)"),
            _str(raw, "language_needs"),
            max_length=200,
        ),
        choice_set("owner_region", _("Your region"), region_choices, _str(raw, "owner_region")),
    ]
    return card(body, _buttons("case", first=True))


@dataclass(frozen=True)
class CaseAnswers:
    case: Case
    owner_region: str


def read_case(case_number: str, raw: Raw, regions: Sequence[str]) -> CaseAnswers | list[str]:
    problems: list[str] = []
    if not _str(raw, "title"):
        problems.append(_("Internal case title: paste the case's title as it is now."))
    owner_region = _str(raw, "owner_region")
    if owner_region not in regions:
        problems.append(_("Your region: choose the region you work in."))
    customer_region = _str(raw, "customer_region")
    if customer_region and customer_region not in regions:
        problems.append(
            _("Customer region: choose one of {regions}.").format(
                regions=formats.listing(regions, alternatives=True)
            )
        )
    customer_language = _customer_language(raw)
    if customer_language is None:
        problems.append(
            # Translators: {value} is what an old or altered card sent instead of a language.
            _(
                "Customer's language: “{value}” is not one of the languages offered, so the "
                "form now says English. Choose the customer's language again."
            ).format(value=_str(raw, "customer_language")[:40])
        )
        customer_language = ENGLISH.code
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
            customer_language=customer_language,
        )
    except ValidationError as error:
        return problems + _pydantic_problems(error, case_labels())
    if problems:
        return problems
    return CaseAnswers(case=case, owner_region=owner_region)
