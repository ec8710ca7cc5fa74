"""Adaptive Card 1.5 validation with the official schema from tests/fixtures/schemas/."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from .plain_words import assert_plain_words, visible_strings

SCHEMA_PATH = (
    Path(__file__).resolve().parents[1] / "fixtures" / "schemas" / "adaptive-card.v1.5.0.json"
)


@cache
def _validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # Teams' card-level extension (mention entities, full width): see the schemas' README.
    schema["definitions"]["AdaptiveCard"]["properties"]["msteams"] = {"type": "object"}
    return jsonschema.validators.validator_for(schema)(schema)


def card_problems(card: dict[str, Any]) -> list[str]:
    """The schema's complaints, each at the deepest place it could be pinned to."""
    leaves: list[Any] = []
    pending = list(_validator().iter_errors(card))
    while pending:
        error = pending.pop()
        if error.context:
            pending.extend(error.context)
        else:
            leaves.append(error)
    leaves.sort(key=lambda e: -len(list(e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in leaves]


def assert_valid_card(card: dict[str, Any]) -> None:
    problems = card_problems(card)
    assert not problems, "card is not valid Adaptive Card 1.5:\n" + "\n".join(problems[:8])
    # Every card a test validates is also read as a person would: plain words only.
    assert_plain_words(visible_strings(card), "the card")
