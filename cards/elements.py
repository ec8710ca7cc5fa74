"""Small builders for Adaptive Card 1.5 elements, so cards read as data and stay valid."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from handoff.models import Case, Severity, case_url
from i18n import _, ngettext

Json = dict[str, Any]

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_URL = "http://adaptivecards.io/schemas/adaptive-card.json"


# What in someone's text could become something they did not write, once Teams renders it:
# a mention tag (a mention of whoever the card's entities name), an HTML link or image (bot
# messages render some HTML), and a markdown link or image whose shown text hides its target
# ("[our wiki](https://elsewhere)"), inline, by reference ("[x][1]") or as the reference's
# definition ("[1]: https://elsewhere"). Each loses one character to a look-alike, so every
# renderer (markdown-it, the mobile clients' own parsers) shows it as typed. A bare URL stays:
# Teams links it with the address itself as the text, which is what its author wrote.
_TAG_OPENER = re.compile(r"<(\s*/?\s*(?:at|a|img)\b)", re.IGNORECASE)
_LINK_CLOSER = re.compile(r"\](?=\s*[(\[:])")


def safe(value: str) -> str:
    """Text someone typed, shown as text: never a mention or a link they did not write.

    Used wherever user-written text lands in a card or a message."""
    value = _TAG_OPENER.sub("\u2039\\1", value)
    return _LINK_CLOSER.sub("\uff3d", value)


# Letters of the right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, N'Ko, their
# presentation forms).
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_FIRST_STRONG_ISOLATE, _POP_ISOLATE = "\u2068", "\u2069"


def isolated(value: str) -> str:
    """A name or short text set into a line of another direction, kept whole as its own run:
    without the isolate, a right-to-left name ("محمد عبد الرحمن") takes the " · " and the
    words next to it into its own direction, and the line reads in the wrong order. Left-to-right
    text is left as it is."""
    if not _RIGHT_TO_LEFT.search(value):
        return value
    return f"{_FIRST_STRONG_ISOLATE}{value}{_POP_ISOLATE}"


def name_text(value: str) -> str:
    """A person's name, as typed, set into a line of the card (safe, and isolated)."""
    return isolated(safe(value))


def severity_text(severity: Severity) -> str:
    """A severity as the team writes it: "Sev A"."""
    return _("Sev {severity}").format(severity=severity.value)


def severity_badge(case: Case) -> str:
    """The case's severity, and 24x7 when it is: "Sev A · 24x7"."""
    badge = severity_text(case.severity)
    return f"{badge} · 24x7" if case.is_24x7 else badge


def card(body: Sequence[Json], actions: Sequence[Json] = (), *, summary: str = "") -> Json:
    """A card. ``summary`` is what the card says in a line: it goes in the card's ``speak`` (its
    spoken form) and becomes the message's notification text (cards/fit.py); without it, the
    card's heading is used."""
    content: Json = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA_URL,
        "version": "1.5",
        "body": list(body),
        "msteams": {"width": "Full"},
    }
    if summary:
        content["speak"] = summary
    if actions:
        content["actions"] = list(actions)
    return content


def open_case(number: str, url_template: str | None) -> list[Json]:
    """The "Open case" button to the case's page in the case system (case_system.url_template),
    to add to a case card's actions; none while no template is set."""
    if not url_template:
        return []
    return [open_url(_("Open case"), case_url(url_template, number))]


ELLIPSIS = "\u2026"


def clip(value: str, limit: int) -> str:
    """At most ``limit`` characters; a text that is cut ends with "…", so the reader sees it
    goes on. It is never cut between a letter and the marks written on it (Arabic vowels,
    accents typed as combining marks), which would leave a mark on nothing."""
    if len(value) <= limit:
        return value
    end = max(limit - 1, 0)
    while 0 < end < len(value) and unicodedata.combining(value[end]):
        end -= 1
    return value[:end].rstrip() + ELLIPSIS


def more_line(said: str) -> Json:
    """The line that ends a list shown in part: "… 12 more earlier steps" (``said`` is the
    whole "12 more earlier steps", written with ngettext by the list that knows what it
    counts)."""
    return text(f"{ELLIPSIS} {said}", subtle=True)


def heading(text: str) -> Json:
    return {"type": "TextBlock", "text": text, "size": "Large", "weight": "Bolder", "wrap": True}


def text(value: str, *, subtle: bool = False, weight: str | None = None) -> Json:
    block: Json = {"type": "TextBlock", "text": value, "wrap": True}
    if subtle:
        block["isSubtle"] = True
    if weight:
        block["weight"] = weight
    return block


def verbatim(value: str, *, monospace: bool = False) -> Json:
    """Text shown line for line as it will be copied elsewhere (notes for the case tool, a
    message for the customer). One TextBlock would read it as markdown, where lines run
    together and the template's `=====` underlines turn the line above into a heading; a
    block per line keeps each line, and a blank line becomes a gap before the next."""
    items: list[Json] = []
    gap = False
    for line in value.splitlines():
        if not line.strip():
            gap = bool(items)
            continue
        block: Json = {"type": "TextBlock", "text": line, "wrap": True}
        if monospace:
            block["fontType"] = "Monospace"
        if items:
            block["spacing"] = "Medium" if gap else "None"
        items.append(block)
        gap = False
    return {"type": "Container", "items": items}


# A form asked again lists at most this many problems, each at most this long: the first ones
# are what to fix first, and the card must stay within Teams' size limit.
MAX_PROBLEMS_SHOWN = 8
MAX_PROBLEM_CHARS = 400


def problems_block(problems: Sequence[str]) -> list[Json]:
    """What to fix, shown at the top of a form that comes back."""
    if not problems:
        return []
    shown = [clip(problem, MAX_PROBLEM_CHARS) for problem in problems[:MAX_PROBLEMS_SHOWN]]
    more = len(problems) - MAX_PROBLEMS_SHOWN
    if more > 0:
        shown.append(
            ELLIPSIS
            + " "
            + ngettext(
                "{count} more to fix after these", "{count} more to fix after these", more
            ).format(count=more)
        )
    lines = "\n".join(f"- {problem}" for problem in shown)
    return [
        {
            "type": "Container",
            "style": "attention",
            "items": [text(_("Please fix:"), weight="Bolder"), text(lines)],
        }
    ]


def facts(pairs: Iterable[tuple[str, str]]) -> Json:
    return {
        "type": "FactSet",
        "facts": [{"title": title, "value": value} for title, value in pairs if value],
    }


def choice_set(
    input_id: str,
    label: str,
    choices: Iterable[tuple[str, str]],
    value: str | None = None,
    *,
    required: bool = True,
    expanded: bool = False,
    multi: bool = False,
) -> Json:
    element: Json = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "choices": [{"title": title, "value": key} for key, title in choices],
        "isRequired": required,
        # Translators: shown under a list left unanswered; {label} is the list's label.
        "errorMessage": _("{label}: choose one.").format(label=label),
    }
    if value:
        element["value"] = value
    if expanded:
        element["style"] = "expanded"
    if multi:
        element["isMultiSelect"] = True
    return element


def toggle(input_id: str, title: str, value: bool | None = None) -> Json:
    return {
        "type": "Input.Toggle",
        "id": input_id,
        "title": title,
        "value": "true" if value else "false",
        "valueOn": "true",
        "valueOff": "false",
    }


def text_input(
    input_id: str,
    label: str,
    value: str | None = None,
    *,
    multiline: bool = False,
    required: bool = False,
    placeholder: str | None = None,
    max_length: int = 4000,
) -> Json:
    element: Json = {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "isMultiline": multiline,
        "isRequired": required,
        "maxLength": max_length,
    }
    if required:
        # Translators: shown under a box left empty; {label} is the box's label.
        element["errorMessage"] = _("{label} is required.").format(label=label)
    if value:
        # Never more than the box holds: a longer value (from pasted notes) would make the form
        # larger than Teams accepts, and the reader names what was cut.
        element["value"] = value[:max_length]
    if placeholder:
        element["placeholder"] = placeholder
    return element


def copyable(input_id: str, label: str, value: str) -> Json:
    """Text to copy exactly as it is (the internal title), in a text box. A TextBlock is read
    as markdown, and every Teams client takes "<Need US SE>" for an HTML tag and drops it;
    a text box's value is shown as typed by all of them, and is easy to select and copy.
    Nothing reads what comes back from it."""
    return text_input(input_id, label, value, max_length=max(len(value), 500))


def date_input(input_id: str, label: str, value: str | None = None) -> Json:
    element: Json = {"type": "Input.Date", "id": input_id, "label": label}
    if value:
        element["value"] = value
    return element


def time_input(input_id: str, label: str, value: str | None = None) -> Json:
    element: Json = {"type": "Input.Time", "id": input_id, "label": label}
    if value:
        element["value"] = value
    return element


def submit(title: str, data: Json, *, style: str | None = None, validate: bool = True) -> Json:
    action: Json = {"type": "Action.Submit", "title": title, "data": data}
    if style:
        action["style"] = style
    if not validate:
        # Back and Cancel must work even while the form has required fields left empty.
        action["associatedInputs"] = "none"
    return action


def open_url(title: str, url: str) -> Json:
    return {"type": "Action.OpenUrl", "title": title, "url": url}
