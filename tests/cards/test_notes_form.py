"""The notes form: what it reads, and what pasted notes fill in (R-NOTES)."""

from cards import notes_form
from handoff.notes.parser import parse_notes


def test_steps_without_an_outcome_are_named() -> None:
    problems = notes_form.read_notes(
        {"steps_tried": "Restarted the node"}, "Etc/UTC", needs_justification=False
    )
    # Changed with issue 15: "step -> result" is read, so that is what the hint shows.
    assert problems == [
        "Steps tried: add the outcome of “Restarted the node” (write: step -> what happened)."
    ]


def test_half_a_next_contact_is_refused() -> None:
    problems = notes_form.read_notes(
        {"next_contact_date": "2026-11-24"}, "Etc/UTC", needs_justification=False
    )
    assert problems == ["Next customer contact: give the date, the time and who waits for whom."]


PASTED_REASON = "- REASON: The customer works from Berlin and needs answers in their morning\n"


def test_a_pasted_reason_is_the_justification_a_handoff_nobody_asked_for_needs() -> None:
    notes = notes_form.read_notes(
        {"summary": "Loads fail", "paste": PASTED_REASON}, "Etc/UTC", needs_justification=True
    )
    assert not isinstance(notes, list)
    assert notes.reason == "The customer works from Berlin and needs answers in their morning"
    parsed = parse_notes(PASTED_REASON)
    assert notes_form.reason_for_transfer(parsed, {}, needs_justification=True) is None


def test_a_pasted_reason_fills_the_transfer_forms_empty_reason_box() -> None:
    parsed = parse_notes(PASTED_REASON)
    transfer = {"kind": "between", "reason": "continual-support", "reason_text": ""}
    assert notes_form.reason_for_transfer(parsed, transfer, needs_justification=False) == {
        **transfer,
        "reason_text": "The customer works from Berlin and needs answers in their morning",
    }
    typed = {**transfer, "reason_text": "Typed on the form"}
    assert notes_form.reason_for_transfer(parsed, typed, needs_justification=False) is None


def test_a_justification_is_not_kept_for_a_handoff_that_needs_none() -> None:
    # Left in the form's state from an earlier answer, when the reason needed one.
    raw = {"summary": "Loads fail", "justification": "Because the owner leaves"}
    notes = notes_form.read_notes(raw, "Etc/UTC", needs_justification=False)
    assert not isinstance(notes, list)
    assert notes.reason is None


def test_pasted_notes_become_the_forms_values_steps_without_outcome_kept() -> None:
    parsed = parse_notes(
        "Summary: Lag since Friday\nSteps tried:\n- Restarted brokers -> lag back\n- Checked ACLs"
    )
    raw = notes_form.pasted_raw(parsed, "Etc/UTC", needs_justification=False)
    assert raw["summary"] == "Lag since Friday"
    assert raw["steps_tried"] == "Restarted brokers -> Outcome: lag back\nChecked ACLs"
