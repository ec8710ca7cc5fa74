import json

import pytest

from application.router import (
    COMMANDS,
    command_lists,
    help_text,
    parse_command,
    read_only,
    written_exactly,
)

from harness.pseudo_language import speaking_pseudo, untranslated


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("help", "help", ()),
        ("  HELP  ", "help", ()),
        ("/help", "help", ()),
        ("<at>Handoff Bot</at> status 2311230040001234", "status", ("2311230040001234",)),
        ("<at>Handoff\nBot</at>&nbsp;list", "list", ()),
        ("<p>handoff <b>123456</b></p>", "handoff", ("123456",)),
        ("", "", ()),
        (None, "", ()),
    ],
)
def test_first_word_is_the_command(text: str | None, name: str, args: tuple[str, ...]) -> None:
    parsed = parse_command(text)
    assert (parsed.name, parsed.args) == (name, args)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status 2311230040001234", True),
        ("status 2311-2300-4000-1234", True),
        ("list", True),
        ("list us", True),
        ("agenda EMEA", True),
        ("mine", True),
        ("shifts", True),
        ("help", True),
        ("status", True),  # without its case: how to use it
        ("settings", True),  # showing them
        ("status waiting on the customer", False),
        ("list of the steps we tried", False),
        ("mine is the last shift", False),
        ("list\nUS", False),
        ("handoff 2311230040001234", False),
        ("settings region EMEA", False),  # changes something: not on the side
        ("status of the cluster", False),
    ],
)
def test_a_read_only_command_mid_dialog_is_only_one_written_exactly(
    text: str, expected: bool
) -> None:
    parsed = parse_command(text)
    assert read_only(parsed.name, parsed.args, text) is expected


@pytest.mark.parametrize(
    ("text", "exact"),
    [
        ("escalate 2311230040001234", True),
        ("escalate 2311230040001234 technical", True),
        ("escalate 2311230040001234 now please", False),
        ("handoff", True),
        ("handoff 2311230040001234", True),
        ("handoff notes are updated in the case", False),
        ("settings", True),
        ("settings region EMEA", True),
        ("settings are fine", False),
        ("longrunning 2311230040001234 the customer works in two zones", True),
        ("help", True),
        ("Help from PG is on the way", False),
        ("Status of the cluster: healthy since 10:00", False),
        ("I don't know yet", False),
    ],
)
def test_a_command_is_a_command_only_written_as_one(text: str, exact: bool) -> None:
    parsed = parse_command(text)
    assert written_exactly(parsed.name, parsed.args, text) is exact


def test_help_is_in_the_readers_language_and_the_menu_in_english() -> None:
    with speaking_pseudo():
        said = help_text()
        menu = command_lists()
    assert untranslated(said) == []
    lines = [line for line in said.splitlines() if line.startswith("- ")]
    assert lines == [f"- ⟦{command.help}⟧" for command in COMMANDS if command.help]
    # The manifest is built once, in English: its menu does not follow the turn's language.
    shown = json.dumps(menu, ensure_ascii=False)
    assert "Hand a case to the next engineer or region" in shown and "⟦" not in shown
