"""msrest's serializer and deserializer for the Bot Framework schema, built once.

``Model.serialize()`` and ``Model.deserialize()`` build a new (de)serializer, with a map of
every model class of the schema, on each call; a turn pays that for the activity it reads and
for each reply it sends. These are the same objects those methods build, kept.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity
from msrest.serialization import Deserializer, Serializer

_MODELS = Activity._infer_class_models()
_SERIALIZER = Serializer(_MODELS)  # type: ignore[no-untyped-call]
_DESERIALIZER = Deserializer(_MODELS)  # type: ignore[no-untyped-call]


def read_activity(body: dict[str, Any]) -> Activity:
    """``Activity().deserialize(body)``."""
    activity: Activity = _DESERIALIZER("Activity", body)
    return activity


def to_json(model: Any) -> Any:
    """``model.serialize()`` for any model of the schema (an Activity, ConversationParameters)."""
    return _SERIALIZER._serialize(model, keep_readonly=False)  # type: ignore[no-untyped-call]
