"""Adaptive Card 1.5 validation with the official schema from tests/fixtures/schemas/, with
Teams' native charts (Chart.VerticalBar, Chart.HorizontalBar, Chart.Donut, Chart.Line) allowed
only where they carry a fallback: a client that cannot draw a chart shows its fallback, so
the fallback must be valid Adaptive Card 1.5 and each chart must have one."""

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

# Teams' chart elements (learn.microsoft.com, "Charts in Adaptive Cards"): the shape of each
# one's data points. Not in the 1.5 schema, so checked here and replaced by their fallback
# before the schema sees the card.
_BAR_POINT = {
    "type": "object",
    "required": ["x", "y"],
    "properties": {"x": {"type": ["string", "number"]}, "y": {"type": "number"}},
}
_CHART_DATA: dict[str, Any] = {
    "Chart.VerticalBar": {"type": "array", "items": _BAR_POINT},
    "Chart.HorizontalBar": {"type": "array", "items": _BAR_POINT},
    "Chart.Donut": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["legend", "value"],
            "properties": {"legend": {"type": "string"}, "value": {"type": "number"}},
        },
    },
    "Chart.Line": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["legend", "values"],
            "properties": {"legend": {"type": "string"}, "values": {"type": "array"}},
        },
    },
}
_CHART_KEYS = {
    "type",
    "title",
    "data",
    "fallback",
    "id",
    "colorSet",
    "color",
    "xAxisTitle",
    "yAxisTitle",
    "displayMode",
    "spacing",
    "separator",
    "height",
    "isVisible",
    "horizontalAlignment",
}


@cache
def _validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # Teams' card-level extension (mention entities, full width): see the schemas' README.
    schema["definitions"]["AdaptiveCard"]["properties"]["msteams"] = {"type": "object"}
    return jsonschema.validators.validator_for(schema)(schema)


def _chart_problems(chart: dict[str, Any], where: str) -> list[str]:
    kind = chart["type"]
    if kind not in _CHART_DATA:
        return [f"{where}: {kind} is not one of Teams' charts ({', '.join(sorted(_CHART_DATA))})"]
    problems = [f"{where}: {kind} has no property {key!r}" for key in set(chart) - _CHART_KEYS]
    fallback = chart.get("fallback")
    if not isinstance(fallback, dict):
        problems.append(
            f"{where}: {kind} has no fallback element (a Table or FactSet with its numbers) "
            "for the clients that cannot draw charts"
        )
    for error in jsonschema.Draft7Validator(_CHART_DATA[kind]).iter_errors(chart.get("data")):
        path = "/".join(map(str, error.absolute_path))
        problems.append(f"{where}/data/{path}: {error.message[:200]}")
    return problems


def _without_charts(node: Any, where: str, problems: list[str]) -> Any:
    """The card as a client without charts sees it: each chart replaced by its fallback;
    what is wrong with the charts goes into `problems`."""
    if isinstance(node, list):
        return [_without_charts(item, f"{where}/{n}", problems) for n, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if str(node.get("type", "")).startswith("Chart."):
        problems.extend(_chart_problems(node, where))
        fallback = node.get("fallback")
        if isinstance(fallback, dict):
            return _without_charts(fallback, f"{where}/fallback", problems)
        return {"type": "TextBlock", "text": "(a chart without fallback)"}
    return {key: _without_charts(value, f"{where}/{key}", problems) for key, value in node.items()}


def card_problems(card: dict[str, Any]) -> list[str]:
    """The schema's complaints, each at the deepest place it could be pinned to."""
    chart_problems: list[str] = []
    plain = _without_charts(card, "", chart_problems)
    leaves: list[Any] = []
    pending = list(_validator().iter_errors(plain))
    while pending:
        error = pending.pop()
        if error.context:
            pending.extend(error.context)
        else:
            leaves.append(error)
    leaves.sort(key=lambda e: -len(list(e.absolute_path)))
    return chart_problems + [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in leaves
    ]


def assert_valid_card(card: dict[str, Any]) -> None:
    problems = card_problems(card)
    assert not problems, "card is not valid Adaptive Card 1.5:\n" + "\n".join(problems[:8])
    # Every card a test validates is also read as a person would: plain words only.
    assert_plain_words(visible_strings(card), "the card", as_sent=False)
