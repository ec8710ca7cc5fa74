"""What an activity's JSON must be before a turn runs on it, each problem said in words that
name the field: a malformed shape is refused with 400 at the edge rather than failing the turn
halfway (with "Sorry" to the user and perhaps a row half written).

Run after authentication (bot/endpoint.py): whoever sends no valid token learns nothing of
these rules.
"""

from __future__ import annotations

from typing import Any

# Activity fields that are text in every activity Teams sends. msrest turns whatever JSON it
# finds there into a string, so a dict given as an id would end up in a reply's URL: they are
# checked on the JSON, not on what msrest made of it.
_TEXT_FIELDS = (
    "type",
    "id",
    "channelId",
    "serviceUrl",
    "replyToId",
    "text",
    "textFormat",
    "name",
    "locale",
)
_REQUIRED_TEXT = ("type", "serviceUrl", "channelId")
_ACCOUNTS = ("conversation", "from", "recipient")


def activity_problem(body: dict[str, Any], json_text: str) -> str | None:
    """What keeps the JSON from being an activity the bot can run a turn on and store, or
    None. ``json_text`` is the text ``body`` was parsed from."""
    return required_fields_problem(body) or unstorable_text_problem(body, json_text)


def required_fields_problem(body: dict[str, Any]) -> str | None:
    """The text fields that are not text, or the ids that are missing."""
    wrong = [name for name in _TEXT_FIELDS if not isinstance(body.get(name), str | None)]
    if wrong:
        return f"These fields must be text: {', '.join(wrong)}."
    missing = [name for name in _REQUIRED_TEXT if not body.get(name)]
    for name in _ACCOUNTS:
        account = body.get(name)
        account_id = account.get("id") if isinstance(account, dict) else None
        if not isinstance(account_id, str) or not account_id:
            missing.append(f"{name}.id")
    if missing:
        return f"The activity needs {', '.join(missing)}."
    return None


def unstorable_text_problem(body: dict[str, Any], json_text: str) -> str | None:
    """A string anywhere in the activity (key or value) that is not text a database column
    holds: NUL, which PostgreSQL's text refuses, or half of a UTF-16 surrogate pair, which is
    no character at all and which neither backend can encode. Ids, names and card data are
    all stored somewhere, so the whole activity is refused, naming the first such field."""
    # Both reach a parsed string only through a \\u escape: the parser refuses raw control
    # characters, and the body was decoded strictly (bot/json_body.py). Most bodies hold no
    # escape at all, and are done with one search.
    if "\\u" not in json_text:
        return None
    return _first_unstorable(body, "")


def _first_unstorable(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        what = _unstorable(value)
        return f"{path} holds {what}; remove it." if what else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            what = _unstorable(key)
            if what:
                return f"A key in {path or 'the activity'} holds {what}; remove it."
            found = _first_unstorable(item, where)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_unstorable(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _unstorable(text: str) -> str | None:
    """What in the string a database cannot store, in words, or None."""
    if "\x00" in text:
        return "a NUL character (\\u0000)"
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        code = ord(text[error.start])
        return f"an unpaired surrogate (\\u{code:04x}), which is not a character"
    return None
