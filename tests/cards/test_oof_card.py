"""The Team Leader's list of an engineer's cases when they go out of office (R-OOF)."""

from __future__ import annotations

from cards.fit import CARD_LIMIT_BYTES, utf16_bytes
from cards.oof_card import ta_list_card
from handoff.oof import OofKind, TaLine

from harness.card_schema import assert_valid_card
from harness.chat import all_text


def test_a_team_leaders_list_of_a_hundred_cases_lists_the_critical_and_counts_the_rest() -> None:
    lines = [
        TaLine(
            case_number=f"23112300400{n:05d}",
            product="HDInsight " * 20,
            description="Jobs stall after the upgrade; waiting for the customer's logs. " * 3,
            status="waiting on customer",
            critical=n % 10 == 0,
        )
        for n in range(100)
    ]
    content = ta_list_card("Ana Lopez", OofKind.PLANNED_LONG, lines)
    assert_valid_card(content)
    assert utf16_bytes(content) <= CARD_LIMIT_BYTES
    shown = all_text(content)
    assert shown.count("critical · ") == 10, "every critical case is listed"
    assert "\u2026 70 more cases: ask Ana Lopez for them" in shown
