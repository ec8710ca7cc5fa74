import pytest

from bot.commands import parse_command


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
