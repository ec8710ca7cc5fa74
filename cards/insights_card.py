"""The `insights` card: the figures of handoff/insights.py drawn with Teams' native charts, each
chart with a fallback (a fact set with the same numbers) for clients that cannot draw it, and
every number written out as text as well."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from babel.dates import format_skeleton

from handoff.durations import in_words
from handoff.insights import Insights, Journey, SeverityFigures, TimeToAccept
from i18n import _, formats, ngettext

from .elements import Json, card, facts, heading, more_line, severity_text, text
from .handoff_words import state_words
from .notes_form import note_labels

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


def _count(value: int) -> str:
    return formats.number(value)


def _times(times: TimeToAccept) -> str:
    return ngettext(
        "median {median}, 90th percentile {p90} ({count} accepted)",
        "median {median}, 90th percentile {p90} ({count} accepted)",
        times.accepted,
    ).format(
        median=_took(times.median_seconds),
        p90=_took(times.p90_seconds),
        count=_count(times.accepted),
    )


def _share(figures: SeverityFigures) -> str:
    target = _took(figures.target_minutes * 60)
    share = figures.share_within
    if share is None:
        # Translators: {target} is the time within which a handoff is to be accepted.
        return _("target {target}, none due yet").format(target=target)
    return _("{within} of {decided} within {target} ({share})").format(
        within=_count(figures.within_target),
        decided=_count(figures.decided),
        target=target,
        share=formats.percent(share),
    )


def _inline(pairs: Sequence[tuple[str, str]]) -> str:
    return " · ".join(f"{label}: {value}" for label, value in pairs)


def _skeleton(skeleton: str, day: date) -> str:
    """``day`` as the reader's language writes it in the CLDR skeleton given (``MMMEd``: the
    weekday, day and month, in the language's order)."""
    return str(format_skeleton(skeleton, day, locale=formats.locale()))


def buckets(by_day: Sequence[tuple[date, int]]) -> tuple[str, list[tuple[date, int]]]:
    """The days' counts as bars a card can hold: by day up to a month, then by week (each
    bar's date its Monday), past half a year by month (its first day)."""
    if len(by_day) <= DAYS_AS_DAYS:
        return "day", list(by_day)
    by_week = len(by_day) <= DAYS_AS_WEEKS
    grouped: dict[date, int] = {}
    for day, count in by_day:
        start = day - timedelta(days=day.weekday()) if by_week else day.replace(day=1)
        grouped[start] = grouped.get(start, 0) + count
    return ("week" if by_week else "month"), list(grouped.items())


def bucket_label(start: date, unit: str) -> str:
    """A bar's label in full, as the fallback and the text show it: "Thu, Nov 26", "Week of
    Nov 30", "Nov 2026"."""
    if unit == "day":
        return _skeleton("MMMEd", start)
    if unit == "week":
        return _("Week of {day}").format(day=_skeleton("MMMd", start))
    return _skeleton("yMMM", start)


def axis_label(start: date, unit: str, bars: int) -> str:
    """A bar's label short enough for a chart's axis (clients cut long ones to "Thu …"); the
    full label stays in the fallback and the text."""
    if unit == "day":
        return _skeleton("E" if bars <= 7 else "d", start)  # "Thu", or "26"
    if unit == "week":
        return _skeleton("MMMd", start)
    return _skeleton("MMM", start)


# Each unit's chart title, axis and line, whole, so each reads right in every language.
def _unit_words(unit: str, zone: str) -> tuple[str, str, str]:
    if unit == "day":
        return _("Handoffs requested by day"), _("Day ({zone})").format(zone=zone), _("By day")
    if unit == "week":
        return _("Handoffs requested by week"), _("Week ({zone})").format(zone=zone), _("By week")
    return _("Handoffs requested by month"), _("Month ({zone})").format(zone=zone), _("By month")


def _by_day(insights: Insights) -> list[Json]:
    unit, counts = buckets(insights.by_day)
    pairs = [(bucket_label(start, unit), _count(count)) for start, count in counts]
    data = [{"x": axis_label(start, unit, len(counts)), "y": count} for start, count in counts]
    title, axis, line = _unit_words(unit, insights.period.zone)
    return [
        _chart(VERTICAL_BAR, title, data, facts(pairs), xAxisTitle=axis, yAxisTitle=_("Handoffs")),
        text(f"{line}: {_inline(pairs)}", subtle=True),
    ]


def _by_region(insights: Insights) -> list[Json]:
    if not insights.by_region:
        return []
    pairs = [(region, _count(count)) for region, count in insights.by_region]
    data = [{"legend": region, "value": count} for region, count in insights.by_region]
    title = _("By receiving region")
    return [
        _chart(DONUT, title, data, facts(pairs)),
        text(f"{title}: {_inline(pairs)}", subtle=True),
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
            _("Median time to accept by route (minutes)"),
            data,
            facts(pairs),
            # Drawn sideways: the x axis (along the bottom) carries the minutes.
            xAxisTitle=_("Minutes"),
            yAxisTitle=_("Route"),
        ),
        text("\n".join(f"- {label}: {value}" for label, value in pairs), subtle=True),
    ]
    more = len(insights.by_route) - LISTED
    if more > 0:
        body.append(
            more_line(
                ngettext("{count} more route", "{count} more routes", more).format(count=more)
            )
        )
    return body


def _by_severity(insights: Insights) -> list[Json]:
    pairs = []
    for figures in insights.by_severity:
        if not figures.requested:
            continue
        times = _times(figures.times) if figures.times else _("none accepted yet")
        severity = f"{severity_text(figures.severity)} ({_count(figures.requested)})"
        pairs.append((severity, f"{times}; {_share(figures)}"))
    if not pairs:
        return []
    return [text(_("**Time to accept by severity**"), weight="Bolder"), facts(pairs)]


def _rounds(count: int, per_handoff: float) -> str:
    return _("{count} ({per_handoff} per handoff)").format(
        count=_count(count), per_handoff=formats.number(per_handoff, 2)
    )


def _bounces(insights: Insights) -> list[Json]:
    bounces = insights.bounces
    body = [
        text(_("**Bounces**"), weight="Bolder"),
        facts(
            [
                (
                    _("Back to the queue"),
                    _rounds(bounces.back_to_queue, bounces.per_handoff(bounces.back_to_queue)),
                ),
                (
                    _("More information asked"),
                    _rounds(bounces.more_info, bounces.per_handoff(bounces.more_info)),
                ),
            ]
        ),
    ]
    if bounces.routes:
        lines = [
            "- "
            + _("{route}: {back} back to the queue, {more} more information").format(
                route=route, back=_count(back), more=_count(more)
            )
            for route, back, more in bounces.routes
        ]
        body.append(text(_("Routes that bounce most:") + "\n" + "\n".join(lines)))
    return body


def _journey(journey: Journey) -> str:
    where = journey.loop or " → ".join(journey.regions)
    if journey.long_running:
        said = ngettext(
            "Case {number}: {where} ({count} hop, long-running)",
            "Case {number}: {where} ({count} hops, long-running)",
            journey.hops,
        )
    else:
        said = ngettext(
            "Case {number}: {where} ({count} hop)",
            "Case {number}: {where} ({count} hops)",
            journey.hops,
        )
    return "- " + said.format(number=journey.case_number, where=where, count=journey.hops)


def _hops(insights: Insights) -> list[Json]:
    handoffs = ngettext(
        "{count} accepted handoff", "{count} accepted handoffs", insights.hops
    ).format(count=_count(insights.hops))
    cases = ngettext("{count} case", "{count} cases", insights.cases).format(
        count=_count(insights.cases)
    )
    body = [
        text(_("**Hops**"), weight="Bolder"),
        text(
            # Translators: "1.5 hops per case (3 accepted handoffs of 2 cases)".
            _("{per_case} hops per case ({handoffs} of {cases})").format(
                per_case=formats.number(insights.hops_per_case, 1), handoffs=handoffs, cases=cases
            )
        ),
    ]
    travelled = insights.round_the_globe
    if travelled:
        lines = [_journey(j) for j in travelled[:LISTED]]
        body.append(text(_("Round the globe or long-running:") + "\n" + "\n".join(lines)))
        more = len(travelled) - LISTED
        if more > 0:
            body.append(
                more_line(
                    ngettext("{count} more case", "{count} more cases", more).format(count=more)
                )
            )
    return body


def _critical(insights: Insights, zone: str) -> list[Json]:
    waiting = insights.critical_waiting
    body = [text(_("**Critical handoffs open now without an owner**"), weight="Bolder")]
    if not waiting:
        return [*body, text(_("None: every critical handoff has an owner."))]
    lines = [
        "- "
        # Translators: {state} is where the handoff stands; {time} how long it has waited.
        + _("Case {number} · {route} · {state} · waiting {time} (since {since})").format(
            number=w.case_number,
            route=w.route,
            state=state_words(w.state, inline=True),
            time=in_words(w.waiting),
            since=formats.when(w.requested_at, zone),
        )
        for w in waiting[:LISTED]
    ]
    body.append(text("\n".join(lines)))
    more = len(waiting) - LISTED
    if more > 0:
        body.append(
            more_line(
                ngettext(
                    "{count} more critical handoff", "{count} more critical handoffs", more
                ).format(count=more)
            )
        )
    return body


def _notes(insights: Insights) -> list[Json]:
    notes = insights.notes
    body = [text(_("**Notes refused by the quality check**"), weight="Bolder")]
    if not notes.refusals:
        return [*body, text(_("None: every note passed the first time."))]
    refusals = ngettext("{count} refusal", "{count} refusals", notes.refusals).format(
        count=_count(notes.refusals)
    )
    cases = ngettext("{count} case", "{count} cases", notes.cases).format(count=_count(notes.cases))
    if notes.passed:
        passed = ngettext("{count} case", "{count} cases", notes.passed).format(
            count=_count(notes.passed)
        )
        before = ngettext(
            "{count} refusal", "{count} refusals", notes.refusals_before_passing
        ).format(count=_count(notes.refusals_before_passing))
        said = _(
            "{refusals} for {cases} (all regions); of those, {passed} then went out, after "
            "{before} in all."
        ).format(refusals=refusals, cases=cases, passed=passed, before=before)
    else:
        said = _("{refusals} for {cases} (all regions); of those, none has gone out yet.").format(
            refusals=refusals, cases=cases
        )
    body.append(text(said))
    labels = note_labels()
    body.append(
        facts(
            [
                (
                    labels.get(field, field),
                    ngettext("{count} time", "{count} times", n).format(count=_count(n)),
                )
                for field, n in notes.fixes
            ]
        )
    )
    return body


def insights_card(insights: Insights) -> Json:
    zone = insights.period.zone
    period = insights.period
    summary = [
        (_("Handoffs requested"), _count(insights.requested)),
        (_("Accepted"), _count(insights.accepted)),
    ]
    if insights.overall is not None:
        summary.append((_("Time to accept"), _times(insights.overall)))
    if insights.region:
        title = _("Handoff insights to {region}").format(region=insights.region)
    else:
        title = _("Handoff insights to all regions")
    label = formats.capitalized(period.label)
    body: list[Json] = [
        heading(title),
        text(
            # Translators: {period} is the period asked for, e.g. "The last 7 days".
            _("{period}: {since} to {until} ({zone})").format(
                period=label,
                since=formats.when(period.since, zone),
                until=formats.when(period.until, zone),
                zone=zone,
            ),
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
    # Translators: the card's notification: "Handoff insights to US, the last 7 days: 12
    # requested".
    line = _("{title}, {period}: {count} requested").format(
        title=title, period=period.label, count=_count(insights.requested)
    )
    return card(body, summary=line)
