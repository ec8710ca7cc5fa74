import json

import pytest

from cards import handoff_forms as forms
from cards import notes_form
from cards.fit import CARD_LIMIT_BYTES, utf16_bytes
from handoff.models import Case, HandoffOutputs, Severity, SupportPlan

from harness.card_schema import assert_valid_card

REGIONS = ("EMEA", "US", "APAC", "IST")
CASE = Case(
    number="2311230040001234",
    severity=Severity.A,
    is_24x7=True,
    plan=SupportPlan.PREMIER,
    product_skill="HDInsight",
    customer_region="US",
    customer_timezone="America/New_York",
)
NOTES_TEXT = (
    "Summary\n=============\nAutoscale stops at 20 nodes.\n\n"
    "Next Customer Contact:\n=============\nWhen: Wed 2026-12-02 09:00 CST\n"
    "Who waits for whom: Customer waits for us\n"
)
OUTPUTS = HandoffOutputs(
    title="Cluster fails to scale out",
    mail_to="queue@example.invalid",
    mail_subject="Please reassign",
    mail_body="Body",
    mailto_url="mailto:queue@example.invalid",
    notes_text=NOTES_TEXT,
    customer_message="Hello,\nOur US support engineer will continue.\nBest regards",
    next_step="Attend the meeting.",
)
# Teams refuses bot messages much above this; the forms stay well under it.
TEAMS_MESSAGE_BUDGET = 28 * 1024


@pytest.mark.parametrize(
    "card",
    [
        forms.case_card(CASE.number, REGIONS, {}, ["Severity: choose one."]),
        forms.transfer_card(CASE, REGIONS, {}, []),
        notes_form.notes_card(CASE, {}, [], needs_justification=True),
        forms.checklist_card(CASE, {}, []),
        forms.meeting_card(
            CASE, "The meeting.", "I aligned with the SME", {}, [], ask_attendance=True
        ),
        forms.warnings_card(CASE, ["Don't."]),
        forms.review_card(CASE, OUTPUTS, updating=False),
    ],
)
def test_every_form_is_a_valid_card_small_enough_for_teams(card: dict[str, object]) -> None:
    assert_valid_card(card)
    assert len(json.dumps(card).encode()) < TEAMS_MESSAGE_BUDGET


def test_time_zones_are_offered_with_their_places() -> None:
    choices = dict(forms.time_zone_choices())
    assert choices["America/New_York"] == "Eastern (EST/EDT) - US & Canada — America/New_York"
    assert "Etc/UTC" in choices
    assert "Asia/Calcutta" not in choices, "no legacy aliases"


def test_an_unknown_time_zone_is_refused_by_name() -> None:
    raw = {
        "title": "Cluster down",
        "severity": "A",
        "is_24x7": "true",
        "plan": "Premier",
        "product_skill": "HDInsight",
        "customer_region": "US",
        "customer_timezone": "Mars/Olympus",
        "status": "in progress",
        "owner_region": "EMEA",
    }
    problems = forms.read_case(CASE.number, raw, REGIONS)
    assert problems == [
        "Customer time zone: unknown IANA time zone 'Mars/Olympus'; use a name such as "
        "'Europe/Berlin' or 'Etc/UTC'"
    ]


def test_a_named_engineer_needs_an_address_to_be_mentioned() -> None:
    raw = {
        "kind": "between",
        "target_region": "US",
        "reason": "needs-sme",
        "target_engineer": "Kim",
    }
    problems = forms.read_transfer(raw, REGIONS, "EMEA")
    assert problems == [
        "Named engineer: give their e-mail address (name@company.com), so the card can "
        "@mention them."
    ]


def test_a_within_region_transfer_cannot_leave_the_region() -> None:
    raw = {"kind": "within", "target_region": "US", "reason": "needs-sme"}
    assert forms.read_transfer(raw, REGIONS, "EMEA") == [
        "Receiving region: a transfer within your region stays in EMEA."
    ]


def test_typed_text_never_becomes_a_mention() -> None:
    from cards.elements import safe

    assert safe("see <at>Ana Lopez</at> -> ok") == "see \u2039at>Ana Lopez\u2039/at> -> ok"
    assert safe("<AT >x</At>") == "\u2039AT >x\u2039/At>"


def lines_of(container: dict[str, object]) -> list[str]:
    items = container["items"]
    assert isinstance(items, list)
    return [str(block["text"]) for block in items]


def test_the_review_card_shows_notes_and_customer_message_line_for_line() -> None:
    card = forms.review_card(CASE, OUTPUTS, updating=False)
    containers = [e for e in card["body"] if e["type"] == "Container"]
    [notes, message] = containers[-2:]
    # One TextBlock would be markdown: its lines would run together, its underlines headings.
    assert lines_of(notes) == [line for line in NOTES_TEXT.splitlines() if line]
    assert lines_of(message) == OUTPUTS.customer_message.splitlines()
    gaps = [block.get("spacing") for block in notes["items"]]
    assert gaps == [None, "None", "None", "Medium", "None", "None", "None"]


def test_notes_of_countless_short_lines_are_shown_whole_in_one_box() -> None:
    # One line a character: as an element each, the review would be far over Teams' limit.
    notes_text = "\n".join(f"{n % 10}" for n in range(1_500))
    message = "\n".join(f"- step {n}" for n in range(300))
    outputs = OUTPUTS.model_copy(update={"notes_text": notes_text, "customer_message": message})
    card = forms.review_card(CASE, outputs, updating=False)
    assert_valid_card(card)
    assert utf16_bytes(card) <= CARD_LIMIT_BYTES
    boxes = {e["id"]: e["value"] for e in card["body"] if e.get("type") == "Input.Text"}
    assert boxes == {
        "internal_title": OUTPUTS.title,
        "notes_text": notes_text,
        "customer_message": message,
    }, "whole, to copy"


def test_short_notes_are_shown_line_for_line() -> None:
    card = forms.review_card(CASE, OUTPUTS, updating=False)
    boxes = [e["id"] for e in card["body"] if e.get("type") == "Input.Text"]
    assert boxes == ["internal_title"], "only the title is a box to copy from"
