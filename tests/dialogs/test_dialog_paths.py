"""Every path through the handoff dialog, walked to its review and back again step by step:
Back works from every step on every path, shows the step before with its answers, and the
walk forward again reaches the same review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from conftest import FakeClock
from harness.chat import all_text, cards, form_of, texts
from harness.dialog_user import (
    CASE,
    CRITICAL_CASE,
    CRITICAL_NOTES,
    NON_CRITICAL_CASE,
    NON_CRITICAL_NOTES,
    WITHIN_REGION_CASE,
    Recorder,
)

TUESDAY_MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # EMEA on shift
SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # no handoff meeting
TUESDAY_NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # APAC off


@dataclass(frozen=True)
class Path:
    at: datetime
    forms: dict[str, dict[str, Any]]


BETWEEN = {"kind": "between", "target_region": "US", "reason": "continual-support"}
PATHS = {
    "critical, owner attends the meeting": Path(
        TUESDAY_MORNING,
        {
            "case": CRITICAL_CASE,
            "transfer": BETWEEN,
            "notes": CRITICAL_NOTES,
            "meeting": {"can_attend": "yes"},
        },
    ),
    "critical, a teammate holds it": Path(
        TUESDAY_MORNING,
        {
            "case": CRITICAL_CASE,
            "transfer": BETWEEN,
            "notes": CRITICAL_NOTES,
            "meeting": {"can_attend": "no", "teammate_can_hold": "yes", "teammate": "Sam Lee"},
        },
    ),
    "critical, no teammate, aligned with the SME": Path(
        TUESDAY_MORNING,
        {
            "case": CRITICAL_CASE,
            "transfer": BETWEEN,
            "notes": CRITICAL_NOTES,
            "meeting": {"can_attend": "no", "teammate_can_hold": "no", "sme_aligned": "true"},
        },
    ),
    "critical, no meeting on the weekend": Path(
        SATURDAY, {"case": CRITICAL_CASE, "transfer": BETWEEN, "notes": CRITICAL_NOTES}
    ),
    "not critical, outside the owner's hours": Path(
        TUESDAY_NOON,
        {
            "case": NON_CRITICAL_CASE,
            "transfer": {
                "kind": "between",
                "target_region": "EMEA",
                "reason": "customer-time-zone",
            },
            "notes": NON_CRITICAL_NOTES,
        },
    ),
    "within the region": Path(
        TUESDAY_MORNING,
        {
            "case": WITHIN_REGION_CASE,
            "transfer": {
                "kind": "within",
                "target_region": "EMEA",
                "target_engineer": "kim.sme@example.invalid",
                "reason": "needs-sme",
            },
            "notes": CRITICAL_NOTES,
            "checklist": {
                "supervisor_consulted": "true",
                "receiver_spoken_to": "true",
                "customer_told": "true",
            },
        },
    ),
    "a collaboration that needs its reason": Path(
        TUESDAY_NOON,
        {
            "case": NON_CRITICAL_CASE,
            "transfer": {
                "kind": "collab",
                "target_region": "EMEA",
                "reason": "other",
                "reason_text": "The customer's DBA works in Berlin hours",
                "needs_collab_input": "true",
            },
            "notes": {
                **NON_CRITICAL_NOTES,
                "justification": "The customer's DBA is only reachable in Berlin hours.",
            },
        },
    ),
    "going to the queue while on leave": Path(
        SATURDAY,
        {
            "case": CRITICAL_CASE,
            "transfer": {**BETWEEN, "resolved_pending": "false", "reason": "extended-time-off"},
            "notes": CRITICAL_NOTES,
            "warnings": {},
        },
    ),
}


async def walk_to_review(user: Recorder, forms: dict[str, dict[str, Any]]) -> tuple[list[str], str]:
    """Answers each form the dialog asks until the review: the forms seen, in order, and the
    review's text."""
    replies = await user.say(f"handoff {CASE}")
    seen: list[str] = []
    while True:
        form = form_of(cards(replies)[-1])
        seen.append(form)
        if form == "review":
            return seen, all_text(cards(replies)[-1])
        assert form in forms, f"the dialog asked {form} after {seen}"
        assert seen.count(form) == 1, f"{form} asked again: {all_text(cards(replies)[-1])}"
        replies = await user.submit(form, **forms[form])
        assert not any(t.startswith("Sorry") for t in texts(replies)), texts(replies)


# The paths through the meeting question depend on the hour: before, in and after the owner's
# shift, and the meeting's own hour in Los Angeles (US daylight time starts 2026-03-08, the
# UK's on 2026-03-29, so on 2026-03-10 the meeting is an hour earlier for EMEA).
HOURS = [datetime(2026, 11, 24, hour, 0, tzinfo=UTC) for hour in range(0, 24, 3)] + [
    datetime(2026, 3, 10, hour, 0, tzinfo=UTC) for hour in (7, 15, 16)
]
TIMED = ["critical, owner attends the meeting", "critical, no teammate, aligned with the SME"]
WALKS = [(name, at) for name in TIMED for at in HOURS] + [
    (name, PATHS[name].at) for name in PATHS if name not in TIMED
]


@pytest.mark.parametrize(("name", "at"), WALKS, ids=[f"{n} at {a:%m-%d %H:%M}" for n, a in WALKS])
async def test_back_works_from_every_step_and_the_way_forward_again_reaches_the_same_review(
    name: str, at: datetime, user: Recorder, clock: FakeClock
) -> None:
    path = PATHS[name]
    clock._now = at
    seen, review = await walk_to_review(user, path.forms)
    for earlier in reversed(seen[:-1]):
        replies = await user.say("back")
        assert not any(t.startswith("Sorry") for t in texts(replies)), (name, texts(replies))
        assert form_of(cards(replies)[-1]) == earlier, f"{name}: back to {earlier}"
    replies = await user.say("back")  # at the first step: it stays there
    assert form_of(cards(replies)[-1]) == seen[0]
    for form in seen[:-1]:
        replies = await user.submit(form, **path.forms[form])
    assert form_of(cards(replies)[-1]) == "review", f"{name}: forward again"
    assert all_text(cards(replies)[-1]) == review, "the answers were kept all the way back"


@pytest.mark.parametrize(
    ("name", "at", "later"),
    [
        # At the review before the meeting; Back once it has begun.
        (
            "not critical, outside the owner's hours",
            datetime(2026, 11, 24, 16, 20, tzinfo=UTC),
            datetime(2026, 11, 24, 16, 35, tzinfo=UTC),
        ),
        # On the SME path on a Friday afternoon; Back once the weekend has begun in EMEA.
        (
            "critical, no teammate, aligned with the SME",
            datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
            datetime(2026, 11, 27, 17, 0, tzinfo=UTC),
        ),
    ],
)
async def test_back_after_the_meeting_has_passed_skips_its_moot_question(
    name: str, at: datetime, later: datetime, user: Recorder, clock: FakeClock
) -> None:
    path = PATHS[name]
    clock._now = at
    forms = {**path.forms, "transfer": {**path.forms["transfer"], "target_region": "US"}}
    forms["case"] = {**forms["case"], "owner_region": "EMEA"}
    forms.setdefault("meeting", {"can_attend": "yes"})
    seen, _ = await walk_to_review(user, forms)
    assert "meeting" in seen, "the meeting was asked while it was still ahead"
    clock._now = later
    replies = await user.say("back")
    assert not any(t.startswith("Sorry") for t in texts(replies)), texts(replies)
    shown = form_of(cards(replies)[-1])
    assert shown in seen and shown != "meeting", f"{name}: back to {shown}"
