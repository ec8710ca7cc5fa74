import pytest

from bot.commands import is_read_only, parse_command


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
    ("text", "read_only"),
    [
        ("status 2311230040001234", True),
        ("status 2311-2300-4000-1234", True),
        ("list", True),
        ("list us", True),
        ("agenda EMEA", True),
        ("mine", True),
        ("shifts", True),
        ("help", True),
        ("status", False),  # without its case: an answer, not the command
        ("status waiting on the customer", False),
        ("list of the steps we tried", False),
        ("mine is the last shift", False),
        ("list\nUS", False),
        ("handoff 2311230040001234", False),
        ("settings region EMEA", False),  # changes something: not on the side
    ],
)
def test_a_read_only_command_mid_dialog_is_only_one_written_exactly(
    text: str, read_only: bool
) -> None:
    assert is_read_only(parse_command(text), text) is read_only
