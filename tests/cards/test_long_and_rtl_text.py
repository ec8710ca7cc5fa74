"""Long words and right-to-left names on the cards: a German compound and an Arabic or Hebrew
name are shown whole, in text that wraps (never cut to one line, never squeezed into a narrow
column), and a right-to-left name inside an English line keeps the line in its order."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cards import handoff_forms as forms
from cards import notes_form
from cards.elements import ELLIPSIS, clip
from cards.fit import fit_card
from cards.long_running_card import owners_card
from cards.oof_card import ta_list_card
from cards.transfer_card import handoff_card, handoff_list_card
from handoff.journey import case_journey
from handoff.models import AuditEvent, Case, Handoff, HandoffOutputs, Person, Severity, SupportPlan
from handoff.oof import OofKind, TaLine
from handoff.request import HandoffAnswers, new_handoff
from handoff.state_machine import Accept, apply

from harness import records
from harness.card_schema import assert_valid_card

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
COMPOUND = "Kundendienstübergabeverantwortlicher"
ARABIC = "محمد عبد الرحمن"
HEBREW = "אברהם כהן"
REQUESTER = Person(id="29:arabic", name=ARABIC, aad_object_id="aad-arabic")
TAKER = Person(id="29:hebrew", name=HEBREW, aad_object_id="aad-hebrew")
REGIONS = ("EMEA", "US", "APAC", "IST")
CASE = "2311230040001234"


def nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from nodes(item)


def shown_whole(content: dict[str, Any], words: str) -> list[str]:
    """Where the card shows ``words`` whole, each place as a reader gets it: "wrapping text",
    "a box's value", "a fact", or what is wrong with the place."""
    places = []
    for block in nodes(content):
        kind = block.get("type")
        if kind == "TextBlock" and words in str(block.get("text", "")):
            wraps = block.get("wrap") is True and "maxLines" not in block
            places.append("wrapping text" if wraps else f"text that does not wrap: {block}")
        elif kind == "Input.Text" and words in str(block.get("value", "")):
            places.append("a box's value")
        elif kind == "FactSet":
            # Teams wraps a fact's title and value (host config factSet.*.wrap).
            places += ["a fact" for fact in block["facts"] if words in str(fact["value"])]
    return places


def squeezed(content: dict[str, Any], words: str) -> list[dict[str, Any]]:
    """The columns holding ``words`` that do not take the room left ("stretch")."""
    return [
        column
        for column in nodes(content)
        if column.get("type") == "Column"
        and words in str(column)
        and column.get("width", "stretch") != "stretch"
    ]


def assert_whole(content: dict[str, Any], *words: str) -> None:
    assert_valid_card(content)
    for said in words:
        places = shown_whole(content, said)
        assert places, f"{said!r} is not shown whole"
        assert all(p in ("wrapping text", "a box's value", "a fact") for p in places), places
        assert not squeezed(content, said)
    # No text anywhere on the card is cut to a line.
    stiff = [
        b for b in nodes(content) if b.get("type") == "TextBlock" and b.get("wrap") is not True
    ]
    assert not stiff, stiff


def a_handoff() -> Handoff:
    answers = records.answers(CASE, "EMEA", "US")
    case = answers.case.model_copy(update={"product_skill": COMPOUND, "title": COMPOUND})
    answers = HandoffAnswers(
        case=case,
        owner_region="EMEA",
        target_region="US",
        kind_choice="between",
        reason=f"The {COMPOUND} is in the US",
        notes=answers.notes,
        target_engineer=TAKER.id,
        target_engineer_name=HEBREW,
    )
    outputs = records.PLACEHOLDER_OUTPUTS.model_copy(update={"title": f"<Need US SE> {COMPOUND}"})
    return new_handoff(answers, outputs, REQUESTER, T0)


def test_the_transfer_card_shows_long_words_and_right_to_left_names_whole() -> None:
    handoff = a_handoff()
    accepted = apply(handoff, Accept(actor=TAKER), T0 + timedelta(minutes=5)).handoff
    history = [
        AuditEvent(
            handoff_id=handoff.id,
            case_number=CASE,
            kind="requested",
            actor=REQUESTER,
            at=T0,
            data={"reason": COMPOUND},
        )
    ]
    cards = [
        (handoff_card(handoff, history=history), (COMPOUND, ARABIC, HEBREW)),
        (
            handoff_card(accepted, journey=case_journey([accepted], [], T0 + timedelta(hours=3))),
            (COMPOUND, ARABIC, HEBREW),
        ),
        # A list shows each case's skill; who asked is on the case's own card.
        (handoff_list_card("Open handoffs", [handoff, accepted], "None"), (COMPOUND,)),
    ]
    for content, words in cards:
        assert_whole(content, *words)
    # In an English line, a right-to-left name is set apart, so " · " and the time stay after it.
    shown = [b["text"] for b in nodes(handoff_card(accepted)) if b.get("type") == "TextBlock"]
    assert any(f"Accepted by \u2068{HEBREW}\u2069 · " in line for line in shown), shown
    assert any(f"Requested by \u2068<at>{ARABIC}</at>\u2069 · " in line for line in shown)


def test_the_handoff_forms_keep_long_words_and_right_to_left_names_whole() -> None:
    raw_case = {
        "title": f"{COMPOUND} {ARABIC}",
        "product_skill": COMPOUND,
        "language_needs": f"{HEBREW} spricht Hebräisch",
    }
    case = Case(
        number=CASE,
        severity=Severity.A,
        is_24x7=True,
        plan=SupportPlan.PREMIER,
        product_skill=COMPOUND,
        customer_region="US",
        customer_timezone="America/New_York",
        title=COMPOUND,
    )
    outputs = HandoffOutputs(
        title=f"<Need US SE> {COMPOUND}",
        mail_to="queue@example.invalid",
        mail_subject=f"Please reassign - Skill: {COMPOUND}",
        mail_body="b",
        mailto_url="mailto:queue@example.invalid",
        notes_text=f"Summary\n=============\n{COMPOUND} stops at 20 nodes.\n",
        customer_message=f"Hello,\n\n{HEBREW} will continue working on your case.",
        next_step=f"Hand the case to {ARABIC}.",
    )
    notes = {"summary": f"{COMPOUND} failed; {ARABIC} called."}
    cards = [
        (forms.case_card(case.number, REGIONS, raw_case, []), (COMPOUND, ARABIC, HEBREW)),
        (
            forms.meeting_card(
                case, "The meeting.", "", {"teammate": ARABIC}, [], ask_attendance=True
            ),
            (ARABIC,),
        ),
        (notes_form.notes_card(case, notes, [], needs_justification=False), (COMPOUND, ARABIC)),
        (forms.review_card(case, outputs, updating=False), (COMPOUND, ARABIC, HEBREW)),
        (forms.existing_card(a_handoff(), "Europe/Berlin"), (ARABIC,)),
        (
            owners_card(case.number, ("US",), {"US": TAKER}, {}, [], {"aad-hebrew": "a@x.invalid"}),
            (HEBREW,),
        ),
        (
            ta_list_card(
                ARABIC,
                OofKind.PLANNED_SHORT,
                [TaLine(CASE, COMPOUND, COMPOUND, "in progress", critical=True)],
            ),
            (COMPOUND, ARABIC),
        ),
    ]
    for content, words in cards:
        assert_whole(content, *words)


def test_a_card_cut_to_fit_teams_still_shows_names_and_long_words_whole() -> None:
    # A history of long reasons: far more than Teams takes, so fit_card cuts the long texts.
    handoff = a_handoff()
    history = [
        AuditEvent(
            handoff_id=handoff.id,
            case_number=CASE,
            kind="revised",
            actor=REQUESTER if n % 2 else TAKER,
            at=T0 + timedelta(minutes=n),
            data={"reason": f"{COMPOUND} " * 400},
        )
        for n in range(8)
    ]
    content = handoff_card(handoff, history=history)
    content["body"].append({"type": "TextBlock", "text": "\u2764" * 15_000, "wrap": True})
    fitted = fit_card(content)
    assert fitted.size < fitted.original_size, "the card had to be cut"
    assert_whole(fitted.content, COMPOUND, ARABIC, HEBREW)


NAME_WITH_MARKS = "عبد الرَّحمن"  # the shadda and fatha are marks written on the ر


@pytest.mark.parametrize("limit", range(2, len(NAME_WITH_MARKS)))
def test_a_cut_never_parts_a_letter_from_its_marks(limit: int) -> None:
    cut = clip(NAME_WITH_MARKS, limit)
    kept = cut.removesuffix(ELLIPSIS)
    assert len(cut) <= limit and cut.endswith(ELLIPSIS)
    assert NAME_WITH_MARKS.startswith(kept)
    assert not unicodedata.combining(NAME_WITH_MARKS[len(kept)]), f"{kept!r} lost its marks"
