"""The `insights` card: the figures of handoff/insights.py drawn with Teams' native charts, each
chart with a fallback (a fact set with the same numbers) for clients that cannot draw it, and
every number written out as text as well."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from handoff.durations import in_words
from handoff.insights import Insights, Journey, SeverityFigures, TimeToAccept

from .elements import Json, card, facts, heading, more_line, text
from .notes_form import NOTE_LABELS

# Teams' chart elements (not in the Adaptive Card 1.5 schema; tests/harness/card_schema.py).
VERTICAL_BAR = "Chart.VerticalBar"
HORIZONTAL_BAR = "Chart.HorizontalBar"
DONUT = "Chart.Donut"
CHART_TYPES = frozenset({VERTICAL_BAR, HORIZONTAL_BAR, DONUT})
# How many lines a list of the card shows; the rest is counted.
LISTED = 8
# The longest periods drawn by day and by week; longer ones by week and by month.
DAYS_AS_DAYS = 31
DAYS_AS_WEEKS = 182


def _chart(kind: str, title: str, data: list[Json], fallback: Json, **extra: str) -> Json:
    return {"type": kind, "title": title, "data": data, "fallback": fallback, **extra}


def _minutes(seconds: float) -> float:
    return round(seconds / 60, 1)


def _took(seconds: float) -> str:
    return in_words(timedelta(seconds=seconds))


def _times(times: TimeToAccept) -> str:
    return (
        f"median {_took(times.median_seconds)}, 90th percentile {_took(times.p90_seconds)} "
        f"({times.accepted} accepted)"
    )


def _share(figures: SeverityFigures) -> str:
    target = _took(figures.target_minutes * 60)
    share = figures.share_within
    if share is None:
        return f"target {target}, none due yet"
    return f"{figures.within_target} of {figures.decided} within {target} ({round(share * 100)}%)"


def _local(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%a %d %b %H:%M")


def _many(count: int, what: str) -> str:
    return f"{count} {what}" if count == 1 else f"{count} {what}s"


def _inline(pairs: Sequence[tuple[str, str]]) -> str:
    return " · ".join(f"{label}: {value}" for label, value in pairs)


def buckets(by_day: Sequence[tuple[date, int]]) -> tuple[str, list[tuple[str, int]]]:
    """The days' counts as bars a card can hold: by day up to a month, then by week (from
    Monday), past half a year by month."""
    if len(by_day) <= DAYS_AS_DAYS:
        return "day", [(day.strftime("%a %d %b"), count) for day, count in by_day]
    by_week = len(by_day) <= DAYS_AS_WEEKS
    grouped: dict[str, int] = {}
    for day, count in by_day:
        monday = day - timedelta(days=day.weekday())
        label = monday.strftime("Week of %d %b") if by_week else day.strftime("%b %Y")
        grouped[label] = grouped.get(label, 0) + count
    return ("week" if by_week else "month"), list(grouped.items())


def axis_label(label: str, unit: str, bars: int) -> str:
    """A bucket's label short enough for a chart's axis (clients cut long ones to "Thu …");
    the full label stays in the fallback and the text."""
    if unit == "day":
        return label[:3] if bars <= 7 else label[4:6]  # "Thu 26 Nov": "Thu", or "26"
    if unit == "week":
        return label.removeprefix("Week of ")
    return label[:3]  # "Nov 2026"


def _by_day(insights: Insights) -> list[Json]:
    unit, counts = buckets(insights.by_day)
    pairs = [(label, str(count)) for label, count in counts]
    data = [{"x": axis_label(label, unit, len(counts)), "y": count} for label, count in counts]
    return [
        _chart(
            VERTICAL_BAR,
            f"Handoffs requested by {unit}",
            data,
            facts(pairs),
            xAxisTitle=f"{unit.capitalize()} ({insights.period.zone})",
            yAxisTitle="Handoffs",
        ),
        text(f"By {unit}: {_inline(pairs)}", subtle=True),
    ]


def _by_region(insights: Insights) -> list[Json]:
    if not insights.by_region:
        return []
    pairs = [(region, str(count)) for region, count in insights.by_region]
    data = [{"legend": region, "value": count} for region, count in insights.by_region]
    return [
        _chart(DONUT, "By receiving region", data, facts(pairs)),
        text(f"By receiving region: {_inline(pairs)}", subtle=True),
    ]


def _by_route(insights: Insights) -> list[Json]:
    if not insights.by_route:
        return []
    shown = insights.by_route[:LISTED]
    data = [{"x": t.label, "y": _minutes(t.median_seconds)} for t in shown]
    pairs = [(t.label, _times(t)) for t in shown]
    body = [
        _chart(
            HORIZONTAL_BAR,
            "Median time to accept by route (minutes)",
            data,
            facts(pairs),
            # Drawn sideways: the x axis (along the bottom) carries the minutes.
            xAxisTitle="Minutes",
            yAxisTitle="Route",
        ),
        text("\n".join(f"- {label}: {value}" for label, value in pairs), subtle=True),
    ]
    if len(insights.by_route) > LISTED:
        body.append(more_line(len(insights.by_route) - LISTED, "routes"))
    return body


def _by_severity(insights: Insights) -> list[Json]:
    pairs = []
    for figures in insights.by_severity:
        if not figures.requested:
            continue
        times = _times(figures.times) if figures.times else "none accepted yet"
        pairs.append(
            (f"Sev {figures.severity.value} ({figures.requested})", f"{times}; {_share(figures)}")
        )
    if not pairs:
        return []
    return [text("**Time to accept by severity**", weight="Bolder"), facts(pairs)]


def _rounds(count: int, per_handoff: float) -> str:
    return f"{count} ({per_handoff:.2f} per handoff)"


def _bounces(insights: Insights) -> list[Json]:
    bounces = insights.bounces
    body = [
        text("**Bounces**", weight="Bolder"),
        facts(
            [
                (
                    "Back to the queue",
                    _rounds(bounces.back_to_queue, bounces.per_handoff(bounces.back_to_queue)),
                ),
                (
                    "More information asked",
                    _rounds(bounces.more_info, bounces.per_handoff(bounces.more_info)),
                ),
            ]
        ),
    ]
    if bounces.routes:
        lines = [
            f"- {route}: {back} back to the queue, {more} more information"
            for route, back, more in bounces.routes
        ]
        body.append(text("Routes that bounce most:\n" + "\n".join(lines)))
    return body


def _journey(journey: Journey) -> str:
    where = journey.loop or " → ".join(journey.regions)
    flagged = ", long-running" if journey.long_running else ""
    return f"- Case {journey.case_number}: {where} ({journey.hops} hops{flagged})"


def _hops(insights: Insights) -> list[Json]:
    body = [
        text("**Hops**", weight="Bolder"),
        text(
            f"{insights.hops_per_case:.1f} hops per case "
            f"({_many(insights.hops, 'accepted handoff')} of {_many(insights.cases, 'case')})"
        ),
    ]
    travelled = insights.round_the_globe
    if travelled:
        lines = [_journey(j) for j in travelled[:LISTED]]
        body.append(text("Round the globe or long-running:\n" + "\n".join(lines)))
        if len(travelled) > LISTED:
            body.append(more_line(len(travelled) - LISTED, "cases"))
    return body


def _critical(insights: Insights, zone: str) -> list[Json]:
    waiting = insights.critical_waiting
    body = [text("**Critical handoffs open now without an owner**", weight="Bolder")]
    if not waiting:
        return [*body, text("None: every critical handoff has an owner.")]
    lines = [
        f"- Case {w.case_number} · {w.route} · {w.state.value.replace('-', ' ')} · waiting "
        f"{in_words(w.waiting)} (since {_local(w.requested_at, zone)})"
        for w in waiting[:LISTED]
    ]
    body.append(text("\n".join(lines)))
    if len(waiting) > LISTED:
        body.append(more_line(len(waiting) - LISTED, "critical handoffs"))
    return body


def _notes(insights: Insights) -> list[Json]:
    notes = insights.notes
    body = [text("**Notes refused by the quality check**", weight="Bolder")]
    if not notes.refusals:
        return [*body, text("None: every note passed the first time.")]
    went = (
        f"{_many(notes.passed, 'case')} then went out, after "
        f"{_many(notes.refusals_before_passing, 'refusal')} in all"
        if notes.passed
        else "none has gone out yet"
    )
    body.append(
        text(
            f"{_many(notes.refusals, 'refusal')} for {_many(notes.cases, 'case')} "
            f"(all regions); of those, {went}."
        )
    )
    body.append(facts([(NOTE_LABELS.get(f, f), f"{n} times") for f, n in notes.fixes]))
    return body


def insights_card(insights: Insights) -> Json:
    zone = insights.period.zone
    period = insights.period
    where = f"to {insights.region}" if insights.region else "to all regions"
    summary = [
        ("Handoffs requested", str(insights.requested)),
        ("Accepted", str(insights.accepted)),
    ]
    if insights.overall is not None:
        summary.append(("Time to accept", _times(insights.overall)))
    body: list[Json] = [
        heading(f"Handoff insights {where}"),
        text(
            f"{period.label.capitalize()}: {_local(period.since, zone)} to "
            f"{_local(period.until, zone)} ({zone})",
            subtle=True,
        ),
        facts(summary),
        *_by_day(insights),
        *_by_region(insights),
        *_by_route(insights),
        *_by_severity(insights),
        *_bounces(insights),
        *_hops(insights),
        *_critical(insights, zone),
        *_notes(insights),
    ]
    line = f"Handoff insights {where}, {period.label}: {insights.requested} requested"
    return card(body, summary=line)
