"""The Adaptive Card builders every card is made of: what they show, what they keep from the
reader, and that what they build is a valid Adaptive Card 1.5."""

from __future__ import annotations

from cards.elements import (
    ELLIPSIS,
    MAX_PROBLEM_CHARS,
    MAX_PROBLEMS_SHOWN,
    card,
    choice_set,
    clip,
    copyable,
    date_input,
    facts,
    heading,
    open_url,
    problems_block,
    safe,
    submit,
    text,
    text_input,
    time_input,
    toggle,
    verbatim,
)

from harness.card_schema import assert_valid_card, card_problems
from harness.chat import all_text
from harness.dialog_user import CRITICAL_NOTES
from harness.handoff_flow import CASE_FORM

SUMMARY = CRITICAL_NOTES["summary"]


def test_clip_leaves_a_text_that_fits_and_marks_a_cut_one() -> None:
    assert clip(SUMMARY, len(SUMMARY)) == SUMMARY
    cut = clip(SUMMARY, 40)
    assert len(cut) == 40
    assert cut.endswith(ELLIPSIS)
    assert SUMMARY.startswith(cut.removesuffix(ELLIPSIS))


def test_clip_does_not_leave_a_space_before_its_ellipsis() -> None:
    words = "Autoscale stops at twenty nodes"
    cut_after_space = len("Autoscale ") + 1  # the cut falls just after a space
    assert clip(words, cut_after_space) == f"Autoscale{ELLIPSIS}"


def test_verbatim_keeps_each_line_and_turns_blank_lines_into_a_gap() -> None:
    notes = "\n\nSUMMARY\n=======\nAutoscale stops\n\n\nNEXT STEPS\n- upload logs\n"
    block = verbatim(notes)
    lines = [item["text"] for item in block["items"]]
    # The template's underline stays a line of its own (one TextBlock would make a heading).
    assert lines == ["SUMMARY", "=======", "Autoscale stops", "NEXT STEPS", "- upload logs"]
    spacing = [item.get("spacing") for item in block["items"]]
    # Leading blank lines make no gap; a run of blank lines makes one.
    assert spacing == [None, "None", "None", "Medium", "None"]
    assert all("fontType" not in item for item in block["items"])
    assert {item["fontType"] for item in verbatim(notes, monospace=True)["items"]} == {"Monospace"}


def test_a_form_asked_again_lists_the_first_problems_and_counts_the_rest() -> None:
    problems = [f"Problem {n}: " + "x" * (MAX_PROBLEM_CHARS + 50) for n in range(12)]
    [container] = problems_block(problems)
    assert container["style"] == "attention"
    heading_block, listed = container["items"]
    assert heading_block["text"] == "Please fix:"
    lines = listed["text"].split("\n")
    assert len(lines) == MAX_PROBLEMS_SHOWN + 1
    assert lines[0].startswith("- Problem 0: ")
    assert all(len(line) <= len("- ") + MAX_PROBLEM_CHARS for line in lines)
    assert lines[-1] == f"- {ELLIPSIS} {12 - MAX_PROBLEMS_SHOWN} more to fix after these"


def test_a_form_with_nothing_to_fix_shows_no_problem_box() -> None:
    assert problems_block([]) == []
    [container] = problems_block(["Choose a severity."])
    assert "Choose a severity." in all_text(container)
    assert "more to fix" not in all_text(container)


def test_facts_leave_out_what_has_no_value() -> None:
    shown = facts([("Plan", CASE_FORM["plan"]), ("Next contact", ""), ("Skill", "HDInsight")])
    assert shown["facts"] == [
        {"title": "Plan", "value": CASE_FORM["plan"]},
        {"title": "Skill", "value": "HDInsight"},
    ]


def test_a_choice_set_sends_back_the_key_and_shows_the_title() -> None:
    element = choice_set(
        "severity", "Severity", [("A", "Sev A"), ("B", "Sev B")], CASE_FORM["severity"]
    )
    assert element["choices"] == [
        {"title": "Sev A", "value": "A"},
        {"title": "Sev B", "value": "B"},
    ]
    assert element["value"] == CASE_FORM["severity"]
    assert element["isRequired"] is True
    assert element["errorMessage"] == "Severity: choose one."
    assert "isMultiSelect" not in element and "style" not in element
    loose = choice_set("regions", "Regions", [("US", "US")], required=False, multi=True)
    assert loose["isMultiSelect"] is True and loose["isRequired"] is False
    assert "value" not in loose


def test_a_toggle_comes_back_as_the_strings_teams_sends() -> None:
    assert toggle("asked", "Customer asked", True)["value"] == "true"
    assert toggle("asked", "Customer asked", False)["value"] == "false"
    assert toggle("asked", "Customer asked")["value"] == "false"


def test_a_text_box_never_holds_more_than_it_accepts() -> None:
    long_notes = SUMMARY * 5
    box = text_input("summary", "Summary", long_notes, multiline=True, max_length=100)
    assert box["value"] == long_notes[:100]
    assert box["maxLength"] == 100
    assert "errorMessage" not in box
    required = text_input("summary", "Summary", required=True, placeholder="What happened")
    assert required["errorMessage"] == "Summary is required."
    assert required["placeholder"] == "What happened"
    assert "value" not in required


def test_a_copyable_text_is_never_cut_however_long() -> None:
    title = "<Need US SE> " + CASE_FORM["title"] * 60
    assert len(title) > 500
    box = copyable("internal_title", "Internal title", title)
    assert box["value"] == title
    assert box["maxLength"] >= len(title)
    assert copyable("internal_title", "Internal title", "short")["maxLength"] == 500


def test_back_and_cancel_buttons_skip_the_forms_checks_and_next_does_not() -> None:
    back = submit("Back", {"form": "case", "action": "back"}, validate=False)
    assert back["associatedInputs"] == "none"
    forward = submit("Next", {"form": "case", "action": "next"}, style="positive")
    assert "associatedInputs" not in forward
    assert forward["style"] == "positive"
    assert forward["data"] == {"form": "case", "action": "next"}


def test_a_card_speaks_its_summary_and_omits_empty_parts() -> None:
    bare = card([heading("Case")])
    assert "speak" not in bare and "actions" not in bare
    assert bare["msteams"] == {"width": "Full"}
    said = card([heading("Case")], [open_url("Open", "https://example.invalid/")], summary="s")
    assert said["speak"] == "s"
    assert said["actions"][0]["type"] == "Action.OpenUrl"


def test_a_card_of_every_element_is_valid_adaptive_card_1_5() -> None:
    content = card(
        [
            heading("Case"),
            text("subtle", subtle=True, weight="Bolder"),
            verbatim(SUMMARY),
            *problems_block(["Choose a severity."]),
            facts([("Plan", CASE_FORM["plan"])]),
            choice_set("severity", "Severity", [("A", "Sev A")], "A", expanded=True),
            toggle("asked", "Customer asked", True),
            text_input("summary", "Summary", SUMMARY, multiline=True, required=True),
            copyable("internal_title", "Internal title", CASE_FORM["title"]),
            date_input("day", "Day", "2026-11-25"),
            time_input("time", "Time", "09:00"),
        ],
        [
            submit("Next", {"form": "case"}),
            submit("Back", {"form": "case"}, validate=False),
            open_url("Open", "https://example.invalid/"),
        ],
        summary="A card of every element",
    )
    assert_valid_card(content)
    # The schema check itself can fail: an element with a wrong type is refused.
    assert card_problems(card([{**heading("Case"), "size": "Enormous"}]))


def test_safe_keeps_a_bare_link_and_breaks_a_disguised_one() -> None:
    assert safe("logs at https://example.invalid/logs") == "logs at https://example.invalid/logs"
    disguised = safe("[the logs](https://example.invalid/login)")
    assert "](" not in disguised
    assert "https://example.invalid/login" in disguised, "the target stays readable"
    assert "<at>" not in safe("<at>Team Lead</at>")
