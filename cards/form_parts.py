"""What every form of the handoff dialog shares: its buttons and how its values are read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .elements import Json, submit

Raw = Mapping[str, Any]
# The transfer form's box for the reason in one's own words (the notes form may fill it).
MAX_REASON_TEXT = 1000
YES_NO: tuple[tuple[str, str], ...] = (("yes", "Yes"), ("no", "No"))


def form_buttons(form: str, *, first: bool = False, next_title: str = "Next") -> list[Json]:
    actions = [submit(next_title, {"form": form, "action": "next"}, style="positive")]
    if not first:
        actions.append(submit("Back", {"form": form, "action": "back"}, validate=False))
    actions.append(submit("Cancel", {"form": form, "action": "cancel"}, validate=False))
    return actions


def raw_text(raw: Raw, key: str) -> str:
    value = raw.get(key)
    return value.strip() if isinstance(value, str) else ""


def raw_flag(raw: Raw, key: str) -> bool:
    return raw_text(raw, key).lower() == "true"
