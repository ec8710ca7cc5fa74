"""The `insights` card: valid Adaptive Card 1.5 once each Teams chart is replaced by its
fallback, a fallback on every chart with the chart's numbers, every number also written as
text, and within Teams' size limit for the longest period and many routes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from cards.fit import CARD_LIMIT_BYTES, fit_card
from cards.insights_card import axis_label, bucket_label, buckets, insights_card
from handoff.insights import HandoffFact, Insights, parse_period
from handoff.models import AuditEntry, AuditKind, HandoffState, Person, Severity

from harness.card_schema import assert_valid_card, card_problems
from harness.chat import all_text
from harness.insights_oracle import figures_from_facts

NOW = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
REGIONS = ("EMEA", "US", "APAC", "IST")


def a_fact(n: int, requested: datetime, accepted_minutes: int | None) -> HandoffFact:
    return HandoffFact(
        handoff_id=f"h{n}",
        case_number=f"{1000000 + n}",
        severity=(Severity.A, Severity.B, Severity.C)[n % 3],
        is_24x7=n % 3 == 0,
        from_region=REGIONS[n % 4],
        target_region=REGIONS[(n + 1) % 4],
        requested_at=requested,
        state=HandoffState.ACCEPTED if accepted_minutes is not None else HandoffState.REQUESTED,
        accepted_at=requested + timedelta(minutes=accepted_minutes)
        if accepted_minutes is not None
        else None,
        seconds_to_accept=accepted_minutes * 60 if accepted_minutes is not None else None,
        back_to_queue_rounds=n % 2,
    )


def figures(words: tuple[str, ...] = ("7d",), count: int = 6) -> Insights:
    period = parse_period(words, NOW, "Europe/London")
    step = (period.until - period.since) / (count + 1)
    facts = [
        a_fact(n, period.since + step * (n + 1), None if n == 0 else 10 * n) for n in range(count)
    ]
    refused = AuditEntry(
        kind=AuditKind.NOTES_REFUSED,
        actor=Person(id="29:a"),
        at=NOW - timedelta(hours=1),
        subject="1000001",
        data={"fixes": ["summary", "next_steps_us"]},
    )
    critical = [f for f in facts if f.is_critical and f.accepted_at is None]
    return figures_from_facts(period, None, facts, [], critical, [refused], NOW)


def charts(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in card["body"] if str(e.get("type", "")).startswith("Chart.")]


def test_the_card_is_valid_with_a_fallback_on_every_chart() -> None:
    card = insights_card(figures())
    assert_valid_card(card)
    drawn = charts(card)
    assert {c["type"] for c in drawn} == {"Chart.VerticalBar", "Chart.Donut", "Chart.HorizontalBar"}
    for chart in drawn:
        assert chart["fallback"]["type"] == "FactSet"
        assert len(chart["fallback"]["facts"]) == len(chart["data"]), chart["title"]


def test_every_number_of_the_charts_is_also_text() -> None:
    insights = figures()
    text = all_text(insights_card(insights))
    for region, count in insights.by_region:
        assert f"{region}: {count}" in text
    assert "By day: Thu, Mar 26: 0 · Fri, Mar 27: 1 · Sat, Mar 28: 1" in text
    route = insights.by_route[0]
    assert f"- {route.label}: median" in text
    assert "1 refusal for 1 case (all regions); of those, none has gone out yet." in text
    assert "Critical handoffs open now without an owner" in text
    # Case 1000000 (Sev A, 24x7) has waited since the first seventh of the week.
    assert "Case 1000000" in text and "waiting 6 days" in text


def test_a_chart_without_fallback_fails_the_check() -> None:
    card = insights_card(figures())
    for chart in charts(card):
        del chart["fallback"]
    problems = card_problems(card)
    assert len([p for p in problems if "has no fallback" in p]) == 3, problems


def test_a_chart_with_malformed_data_fails_the_check() -> None:
    card = insights_card(figures())
    charts(card)[0]["data"][0]["y"] = "many"
    assert any("/data/0/y" in p for p in card_problems(card))


def test_long_periods_are_drawn_by_week_or_month_and_fit_teams_limit() -> None:
    month = figures(("30d",))
    assert buckets(month.by_day)[0] == "day"
    quarter = figures(("90d",), count=200)
    unit, bars = buckets(quarter.by_day)
    assert unit == "week" and sum(n for _, n in bars) == 200
    year = figures(("365d",), count=400)
    unit, bars = buckets(year.by_day)
    assert unit == "month" and len(bars) == 13 and sum(n for _, n in bars) == 400
    # Axis labels short enough not to be cut; the full ones stay in the fallback and text.
    thursday, monday = date(2026, 11, 26), date(2026, 11, 30)
    assert axis_label(thursday, "day", 7) == "Thu"
    assert axis_label(thursday, "day", 30) == "26"
    assert axis_label(monday, "week", 13) == "Nov 30"
    assert axis_label(monday, "month", 13) == "Nov"
    assert bucket_label(monday, "week") == "Week of Nov 30"
    card = insights_card(year)
    assert_valid_card(card)
    fitted = fit_card(card)
    assert fitted.left_out == () and fitted.size <= CARD_LIMIT_BYTES


def test_an_empty_period_says_so() -> None:
    period = parse_period(("this", "week"), NOW, "UTC")
    card = insights_card(figures_from_facts(period, "US", [], [], [], [], NOW))
    assert_valid_card(card)
    text = all_text(card)
    assert "Handoff insights to US" in text
    assert "None: every critical handoff has an owner." in text
    assert "None: every note passed the first time." in text
