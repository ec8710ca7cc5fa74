"""What every form of the handoff dialog shares: its buttons and how its values are read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from i18n import pgettext

from .elements import Json, submit

Raw = Mapping[str, Any]
# The transfer form's box for the reason in one's own words (the notes form may fill it).
MAX_REASON_TEXT = 1000


def yes_no() -> tuple[tuple[str, str], ...]:
    """The answers of a yes-or-no question: what the card sends back, and what it shows."""
    return (("yes", pgettext("answer", "Yes")), ("no", pgettext("answer", "No")))


def form_buttons(form: str, *, first: bool = False, next_title: str | None = None) -> list[Json]:
    title = next_title or pgettext("button", "Next")
    actions = [submit(title, {"form": form, "action": "next"}, style="positive")]
    if not first:
        back = pgettext("button", "Back")
        actions.append(submit(back, {"form": form, "action": "back"}, validate=False))
    cancel = pgettext("button", "Cancel")
    actions.append(submit(cancel, {"form": form, "action": "cancel"}, validate=False))
    return actions


def raw_text(raw: Raw, key: str) -> str:
    value = raw.get(key)
    return value.strip() if isinstance(value, str) else ""


def raw_flag(raw: Raw, key: str) -> bool:
    return raw_text(raw, key).lower() == "true"
