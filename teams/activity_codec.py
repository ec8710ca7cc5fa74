"""msrest's serializer and deserializer for the Bot Framework schema, built once, and a faster
path for the replies a turn sends.

``Model.serialize()`` and ``Model.deserialize()`` build a new (de)serializer, with a map of
every model class of the schema, on each call; a turn pays that for the activity it reads and
for each reply it sends. These are the same objects those methods build, kept.

Even kept, msrest's generic walk (a type lookup, kwargs and a try per value, every string of
an Adaptive Card included) was the largest cost of a `help` turn. ``to_json`` first walks the
model itself with msrest's rules for the plain shapes replies have (models, str/int/bool/float,
lists, dicts, enums in string fields, ISO-8601 times) and hands anything else (a float field
holding an int, an enum inside a card, a key with a dot) to msrest whole, so the output is
always msrest's. ``read_activity`` does the same for the activity each request brings, and
``read_model`` for any other model read from JSON.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from botbuilder.schema import Activity
from msrest.serialization import Deserializer, Model, Serializer

_MODELS = Activity._infer_class_models()
_SERIALIZER = Serializer(_MODELS)  # type: ignore[no-untyped-call]
_DESERIALIZER = Deserializer(_MODELS)  # type: ignore[no-untyped-call]

# The declared types whose values msrest passes through unchanged when they have that type.
_PLAIN = {"str": str, "int": int, "bool": bool, "float": float}
_OBJECT_PLAIN = frozenset({str, int, bool, float})


class _Unusual(Exception):
    """A value the fast path does not handle; msrest serializes the whole model instead."""


# Per model class: (attribute, JSON key, declared type), or None for a class msrest treats in
# a way the fast path does not (flattened or escaped keys, read-only or additional fields).
_FIELDS: dict[type, tuple[tuple[str, str, str], ...] | None] = {}


def _fields_of(cls: type) -> tuple[tuple[str, str, str], ...] | None:
    try:
        return _FIELDS[cls]
    except KeyError:
        pass
    attribute_map: dict[str, dict[str, Any]] = getattr(cls, "_attribute_map", {})
    validation: dict[str, dict[str, Any]] = getattr(cls, "_validation", {})
    usual = not hasattr(cls, "_xml_map") and all(
        attr != "additional_properties"
        and desc["key"]
        and "." not in desc["key"]
        and "\\" not in desc["key"]
        and not validation.get(attr, {}).get("readonly", False)
        and not validation.get(attr, {}).get("constant", False)
        for attr, desc in attribute_map.items()
    )
    fields = (
        tuple((attr, desc["key"], desc["type"]) for attr, desc in attribute_map.items())
        if usual
        else None
    )
    _FIELDS[cls] = fields
    return fields


def _model(model: Any) -> dict[str, Any]:
    fields = _fields_of(type(model))
    if fields is None:
        raise _Unusual
    serialized: dict[str, Any] = {}
    for attr, key, data_type in fields:
        value = getattr(model, attr)
        if value is not None:  # msrest leaves out what is None
            serialized[key] = _value(value, data_type)
    return serialized


def _value(value: Any, data_type: str) -> Any:
    plain = _PLAIN.get(data_type)
    if plain is not None:
        if type(value) is plain:
            return value
        if data_type == "str" and isinstance(value, Enum):
            return value.value  # the activity's type, say (msrest's serialize_unicode)
        raise _Unusual
    if data_type == "object":
        return _object(value)
    if data_type == "iso-8601":
        try:
            return Serializer.serialize_iso(value)  # type: ignore[no-untyped-call]
        except Exception as error:
            raise _Unusual from error
    if data_type[0] == "[" and data_type[-1] == "]":
        if type(value) is not list:
            raise _Unusual
        inner = data_type[1:-1]
        return [None if item is None else _value(item, inner) for item in value]
    if data_type[0] == "{" and data_type[-1] == "}":
        if type(value) is not dict:
            raise _Unusual
        inner = data_type[1:-1]
        return {_key(k): None if item is None else _value(item, inner) for k, item in value.items()}
    if data_type in _MODELS and isinstance(value, Model):
        return _model(value)
    raise _Unusual


def _key(key: Any) -> str:
    if type(key) is not str:
        raise _Unusual
    return key


def _object(value: Any) -> Any:
    """msrest's serialize_object for what card contents are made of."""
    kind = type(value)
    if value is None or kind in _OBJECT_PLAIN:
        return value
    if kind is dict:
        return {_key(k): _object(item) for k, item in value.items()}
    if kind is list:
        return [_object(item) for item in value]
    if isinstance(value, Model):
        return _model(value)
    raise _Unusual


def _read_model(cls: type, data: Any) -> Any:
    fields = _fields_of(cls)
    if fields is None or type(data) is not dict or getattr(cls, "_subtype_map", None):
        raise _Unusual
    # msrest passes every attribute (None when absent) and keeps unknown keys aside.
    attrs = {attr: _read(data.get(key), data_type) for attr, key, data_type in fields}
    model = cls(**attrs)
    known = _KEYS[cls]
    extra = {key: value for key, value in data.items() if key not in known}
    if extra:
        model.additional_properties = extra
    return model


def _read(value: Any, data_type: str) -> Any:
    if value is None:
        return None
    plain = _PLAIN.get(data_type)
    if plain is not None:
        if type(value) is plain:
            return value
        raise _Unusual
    if data_type == "object":
        return _read_object(value)
    if data_type == "iso-8601":
        if type(value) is not str:
            raise _Unusual
        read = _teams_time(value)
        if read is not None:
            return read
        try:
            return Deserializer.deserialize_iso(value)  # type: ignore[no-untyped-call]
        except Exception as error:
            raise _Unusual from error
    if data_type[0] == "[" and data_type[-1] == "]":
        if type(value) is not list:
            raise _Unusual
        inner = data_type[1:-1]
        return [_read(item, inner) for item in value]
    if data_type[0] == "{" and data_type[-1] == "}":
        if type(value) is not dict:
            raise _Unusual
        inner = data_type[1:-1]
        return {key: _read(item, inner) for key, item in value.items()}
    cls = _MODELS.get(data_type)
    if cls is None or (isinstance(cls, type) and issubclass(cls, Enum)):
        raise _Unusual
    return _read_model(cls, value)


_TEAMS_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)")


def _teams_time(value: str) -> datetime | None:
    """A time in the form Teams sends, read by the standard library as msrest reads it (the
    fraction cut to microseconds too) in a tenth of the time; None for anything else, or for
    what msrest would refuse (no such day, a UTC year outside 1-9999), left to msrest."""
    if not _TEAMS_TIME.fullmatch(value):
        return None
    try:
        read = datetime.fromisoformat(value)
    except ValueError:
        return None
    return read if 1 < read.year < 9999 else None


def _read_object(value: Any) -> Any:
    """msrest's deserialize_object for JSON: a copy of the dicts and lists."""
    kind = type(value)
    if value is None or kind in _OBJECT_PLAIN:
        return value
    if kind is dict:
        return {key: _read_object(item) for key, item in value.items()}
    if kind is list:
        return [_read_object(item) for item in value]
    raise _Unusual


class _Keys(dict[type, frozenset[str]]):
    def __missing__(self, cls: type) -> frozenset[str]:
        keys = frozenset(key for _, key, _ in _fields_of(cls) or ())
        self[cls] = keys
        return keys


_KEYS = _Keys()


def read_activity(body: dict[str, Any]) -> Activity:
    """``Activity().deserialize(body)``: read directly for the usual shapes, by msrest for the
    rest (it also raises msrest's errors for what is not an activity)."""
    return read_model(Activity, body)


M = TypeVar("M", bound=Model)


def read_model(cls: type[M], body: dict[str, Any]) -> M:
    """``cls.deserialize(body)`` for any model of the schema, read as ``read_activity`` reads
    (a stored ConversationReference, say, before each proactive send)."""
    try:
        model: M = _read_model(cls, body)
        return model
    except _Unusual:
        pass
    return _msrest_model(cls, body)  # outside the except: its errors are not chained


def msrest_read(body: dict[str, Any]) -> Activity:
    """``Activity().deserialize(body)`` by msrest itself (what ``read_activity`` equals)."""
    return _msrest_model(Activity, body)


def _msrest_model(cls: type[M], body: dict[str, Any]) -> M:
    model: M = _DESERIALIZER(cls.__name__, body)
    return model


def to_json(model: Any) -> Any:
    """``model.serialize()`` for any model of the schema (an Activity, ConversationParameters)."""
    if isinstance(model, Model):
        try:
            return _model(model)
        except _Unusual:
            pass
    return msrest_json(model)


def msrest_json(model: Any) -> Any:
    """``model.serialize()`` by msrest itself (what ``to_json`` always equals)."""
    return _SERIALIZER._serialize(model, keep_readonly=False)  # type: ignore[no-untyped-call]
