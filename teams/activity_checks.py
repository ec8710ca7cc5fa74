"""What an activity's JSON must be before a turn runs on it, each problem said in words that
name the field: a malformed shape is refused with 400 at the edge rather than failing the turn
halfway (with "Sorry" to the user and perhaps a row half written).

Run after authentication (teams/endpoint.py): whoever sends no valid token learns nothing of
these rules.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity
from botbuilder.schema.teams import TeamsChannelData
from botframework.connector import Channels
from msrest.serialization import Deserializer

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
    return (
        required_fields_problem(body)
        or channel_data_problem(body)
        or entities_problem(body)
        or members_problem(body)
        or unstorable_text_problem(body, json_text)
    )


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


def _declared_fields(models: dict[str, Any]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Per msrest model of the schema: its JSON keys and their declared types ("str", "bool",
    "int", "float", "iso-8601", "object", a model's name, "[Model]")."""
    return {
        name: tuple((desc["key"], desc["type"]) for desc in model._attribute_map.values())
        for name, model in models.items()
        if isinstance(model, type) and hasattr(model, "_attribute_map")
    }


# The Bot Framework schema and Teams' channelData as the SDK declares them: TeamsActivityHandler
# deserializes TeamsChannelData on every conversationUpdate and TeamsInfo reads from it, and
# the bot itself reads team, channel and tenant on every turn.
_FIELDS = {
    **_declared_fields(Activity._infer_class_models()),
    **_declared_fields(TeamsChannelData._infer_class_models()),
}
_SCALARS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "str": (str, "text"),
    "bool": (bool, "true or false"),
    "int": (int, "a whole number"),
    "float": ((int, float), "a number"),
}


def channel_data_problem(body: dict[str, Any]) -> str | None:
    """channelData that is not the shape Teams sends: each of its objects an object, each of
    their fields of its declared type (msrest would raise on some, and turn others into the
    text "[1]" or "42" that the bot would store as an id), and the team with its id."""
    data = body.get("channelData")
    if data is None:
        if body.get("type") == "conversationUpdate" and body.get("channelId") == Channels.ms_teams:
            # TeamsActivityHandler reads the team from it without looking.
            return "A Teams conversationUpdate needs channelData (an object)."
        return None
    problem = _shape_problem(data, "TeamsChannelData", "channelData")
    if problem:
        return problem
    if "self" in data:
        # TeamsInfo builds TeamsChannelData(**channelData) to look a new member up.
        return "channelData may not hold a field named self."
    team = data.get("team")
    if isinstance(team, dict) and not team.get("id"):
        # ... and reads channelData["team"]["id"] there.
        return "channelData.team needs an id."
    return None


def schema_problem(body: dict[str, Any]) -> str | None:
    """The first field of the activity that is not of the type the Bot Framework schema
    declares, named; for saying what is wrong with a body msrest could not read."""
    return _shape_problem(body, "Activity", "")


def _shape_problem(value: Any, declared: str, path: str) -> str | None:
    if value is None:
        return None  # msrest reads null as absent
    if declared.startswith("["):
        return _list_problem(value, declared[1:-1], path)
    scalar = _SCALARS.get(declared)
    if scalar is not None:
        kind, words = scalar
        # true is an int to Python, not to JSON.
        if not isinstance(value, kind) or (declared != "bool" and isinstance(value, bool)):
            return f"{path} must be {words}."
        return None
    if declared == "iso-8601":
        return None if _is_iso_time(value) else f"{path} must be a date and time (ISO 8601)."
    fields = _FIELDS.get(declared)
    if fields is None:
        return None  # "object", or a type the checks leave to msrest
    if not isinstance(value, dict):
        return f"{path} must be an object."
    for key, field_type in fields:
        if key in value:
            problem = _shape_problem(value[key], field_type, f"{path}.{key}" if path else key)
            if problem:
                return problem
    return None


def _list_problem(value: Any, item_type: str, path: str) -> str | None:
    if not isinstance(value, list):
        return f"{path} must be a list."
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if item is None and item_type in _FIELDS:
            return f"{where} must be an object."  # the SDK reads each one's fields
        problem = _shape_problem(item, item_type, where)
        if problem:
            return problem
    return None


def _is_iso_time(value: Any) -> bool:
    try:
        Deserializer.deserialize_iso(value)  # type: ignore[no-untyped-call]
    except Exception:
        return False  # msrest raises DeserializationError, or what the parsing raised
    return True


def entities_problem(body: dict[str, Any]) -> str | None:
    """Entities that are not objects with a type (the SDK lower-cases each one's type), and
    mentions the SDK cannot take the bot's name out of the text with."""
    entities = body.get("entities")
    if entities is None:
        return None
    if not isinstance(entities, list):
        return "entities must be a list."
    for index, entity in enumerate(entities):
        where = f"entities[{index}]"
        if not isinstance(entity, dict):
            return f"{where} must be an object."
        kind = entity.get("type")
        if not isinstance(kind, str):
            return f"{where}.type must be text."
        if kind.lower() == "mention":
            problem = _mention_problem(entity, where)
            if problem:
                return problem
    return None


def _mention_problem(mention: dict[str, Any], where: str) -> str | None:
    # What TurnContext.remove_mention_text reads: mentioned["id"], then text or else
    # mentioned["name"], as text.
    mentioned = mention.get("mentioned")
    if not isinstance(mentioned, dict) or not isinstance(mentioned.get("id"), str):
        return f"{where}.mentioned must be an object with an id (text)."
    text, name = mention.get("text"), mentioned.get("name")
    if not isinstance(text, str | None):
        return f"{where}.text must be text."
    if not isinstance(name, str | None):
        return f"{where}.mentioned.name must be text."
    if not text and name is None:
        return f"{where} needs a text or a mentioned.name."
    return None


def members_problem(body: dict[str, Any]) -> str | None:
    """Members added or removed that are not accounts with an id: the SDK reads each one's id
    (and looks it up on the connector)."""
    for field in ("membersAdded", "membersRemoved"):
        members = body.get(field)
        if members is None:
            continue
        if not isinstance(members, list):
            return f"{field} must be a list."
        for index, member in enumerate(members):
            member_id = member.get("id") if isinstance(member, dict) else None
            if not isinstance(member_id, str) or not member_id:
                return f"{field}[{index}] must be an account with an id (text)."
    return None


def unstorable_text_problem(body: dict[str, Any], json_text: str) -> str | None:
    """A string anywhere in the activity (key or value) that is not text a database column
    holds: NUL, which PostgreSQL's text refuses, or half of a UTF-16 surrogate pair, which is
    no character at all and which neither backend can encode. Ids, names and card data are
    all stored somewhere, so the whole activity is refused, naming the first such field."""
    # Both reach a parsed string only through a \u escape: the parser refuses raw control
    # characters, and the body was decoded strictly (teams/json_body.py). Most bodies hold no
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
