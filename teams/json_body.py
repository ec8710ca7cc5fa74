"""A request body read as JSON within limits, before anything else looks at it.

``json.loads`` recurses once per level of nesting: two kilobytes of ``[`` exhaust the stack
(a RecursionError, so an HTTP 500 and a traceback) before the token is even checked, and a
few hundred levels that parse would still recurse through every later reader (msrest, deep
copies, the dialog state). So the depth is measured on the text first. It runs on every
request, so it costs two ``str.count`` calls for an activity with fewer brackets than the
limit in all (every activity Teams sends; the deepest nest four levels); only a body with
more brackets than that gets the exact scan, which leaves out what is inside strings.
"""

from __future__ import annotations

import json
import re
import sys
from itertools import accumulate
from typing import Any

# Teams' own activities nest four levels deep (an Action.Execute's value.action.data); the
# rest is for what a card's data holds and for Adaptive Card content in attachments.
MAX_DEPTH = 64

_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


class JsonRefused(Exception):
    """The body cannot be read as JSON: ``message`` tells the sender, ``reason`` the log."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


def nested_deeper_than(text: str, limit: int) -> bool:
    """Whether the JSON text nests arrays and objects more than ``limit`` deep. Exact for
    valid JSON, and for the valid start of invalid JSON, which is as far as a parser gets."""
    if text.count("{") + text.count("[") <= limit:
        return False  # fewer brackets than the limit in all cannot nest deeper than it
    # Without its escaped backslashes and quotes, the text alternates outside and inside
    # strings at each quote; brackets in strings do not nest.
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    outside = "".join(unescaped.split('"')[::2])
    brackets = _NOT_BRACKETS.sub("", outside)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limit


def decode_json_text(raw: bytes) -> str:
    """The body as text, in the encoding JSON allows (UTF-8, or UTF-16/32 told apart by
    their zero bytes, as ``json.loads`` does), strictly: bytes that are no character are
    refused here rather than read as lone surrogates."""
    try:
        return raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError:
        raise JsonRefused("The body is not valid JSON text (UTF-8).", "not UTF-8") from None


def parse_json(text: str, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads(text)``, but never deeper than ``max_depth`` and never a crash."""
    if nested_deeper_than(text, max_depth):
        raise JsonRefused(
            f"The body nests arrays and objects more than {max_depth} levels deep.", "too deep"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise JsonRefused("The body is not valid JSON.", "not JSON") from None
    except ValueError:
        # The one other error json.loads raises: an integer longer than Python converts.
        digits = sys.get_int_max_str_digits()
        raise JsonRefused(
            f"The body holds a number longer than {digits} digits.", "number too long"
        ) from None
