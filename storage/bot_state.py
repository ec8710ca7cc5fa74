"""botbuilder `Storage` for dialog, conversation and user state, on the store's database.

The only storage module that imports botbuilder. Values are serialized the way botbuilder's own
Cosmos DB and Blob storages do it (jsonpickle's Pickler.flatten / Unpickler.restore), so
DialogState and other plain objects round-trip. jsonpickle restores arbitrary classes: only
this bot writes the table, never put data from elsewhere in it.

A turn's first round trip may read its conversation's document along (the delivery claim,
storage/handled_keys_store.py): `read_ahead` hands it to this storage for the turn, and the
turn's read of that key is answered from it once, with no trip of its own.

E-tags follow MemoryStorage: every write stores a fresh e-tag; `read` hands it back on the
item; a write carrying an e-tag other than None or "*" succeeds only while the stored e-tag is
still that one (or the key is not stored), checked by a conditional UPDATE so it also holds
across bot processes.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any
from uuid import uuid4

from botbuilder.core import Storage
from jsonpickle.pickler import Pickler
from jsonpickle.unpickler import Unpickler

from handoff.ports import Clock, StoredDocument, SystemClock

from .sql_protocol import Database, Session

logger = logging.getLogger(__name__)

_E_TAG = "e_tag"


class BotStateConflict(KeyError):
    """Someone else wrote the state since it was read; raised before anything is written.
    A KeyError, as MemoryStorage raises on an e-tag conflict."""

    def __init__(self, key: str, expected: str, stored: str) -> None:
        super().__init__(key)
        self.key = key
        self.expected = expected
        self.stored = stored

    def __str__(self) -> str:
        return (
            f"Bot state {self.key!r} was changed by another turn since it was read (e-tag "
            f"{self.expected!r}, stored now {self.stored!r}); nothing was written. Read it "
            "again and retry."
        )


def _e_tag_of(item: object) -> Any:
    if isinstance(item, dict):
        return item.get(_E_TAG)
    return getattr(item, _E_TAG, None)


def _set_e_tag(item: object, e_tag: str) -> None:
    if isinstance(item, dict):
        item[_E_TAG] = e_tag
        return
    try:
        setattr(item, _E_TAG, e_tag)
    except (AttributeError, TypeError):
        logger.debug("cannot put an e-tag on a %s; it is stored without one", type(item))


def _serialize(item: object) -> str:
    # keys=True keeps non-string dict keys (ints in dialog state) as they were.
    flat = Pickler(keys=True).flatten(item)
    if isinstance(flat, dict):
        # The e-tag lives in its own column; a stale copy inside the document would mislead.
        flat.pop(_E_TAG, None)
    return json.dumps(flat)


def _deserialize(doc: str, e_tag: str) -> object:
    item: object = Unpickler(keys=True).restore(json.loads(doc))
    _set_e_tag(item, e_tag)
    return item


class SqlBotStorage(Storage):  # type: ignore[misc]  # botbuilder ships no type information
    """botbuilder Storage over the `bot_state` table created by the store's migrations."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        super().__init__()
        self._db = db
        self._clock: Clock = clock or SystemClock()
        self._ahead: ContextVar[dict[str, StoredDocument] | None] = ContextVar(
            f"storage.bot_state.read_ahead.{id(self)}", default=None
        )

    @contextlib.contextmanager
    def read_ahead(self, key: str, stored: StoredDocument) -> Iterator[None]:
        """Within the block, the first read of `key` is answered with `stored`, read by the
        turn's claim moments before (a later read goes to the database: the turn may have
        written the key since)."""
        token = self._ahead.set({key: stored})
        try:
            yield
        finally:
            self._ahead.reset(token)

    def read_ahead_holds_no_dialog(self, key: str, dialog_property: str) -> bool:
        """Whether the document read ahead for `key` is known to hold no dialog in progress:
        nothing stored, or a dialog state with an empty stack (as the SDK stores it once a
        dialog ends). Anything else, or nothing read ahead, is not known: False."""
        ahead = self._ahead.get()
        stored = ahead.get(key) if ahead is not None else None
        if stored is None:
            return False
        if stored.doc is None:
            return True
        try:
            document = json.loads(stored.doc)
        except ValueError:
            return False
        state = document.get(dialog_property) if isinstance(document, dict) else None
        return isinstance(state, dict) and state.get("_dialog_stack") == [] and len(document) == 1

    async def read(self, keys: Sequence[str]) -> dict[str, object]:
        if not keys:
            return {}
        unique = list(dict.fromkeys(keys))
        ahead = self._ahead.get()
        if ahead is not None and all(key in ahead for key in unique):
            read = {key: ahead.pop(key) for key in unique}
            return {
                key: _deserialize(stored.doc, stored.e_tag)
                for key, stored in read.items()
                if stored.doc is not None and stored.e_tag is not None
            }
        marks = ", ".join("?" for _ in unique)
        rows = await self._db.fetch_all(
            f"SELECT key, etag, doc FROM bot_state WHERE key IN ({marks})", *unique
        )
        return {row["key"]: _deserialize(row["doc"], row["etag"]) for row in rows}

    async def write(self, changes: Mapping[str, object]) -> None:
        if changes is None:
            raise ValueError("Changes are required when writing")
        if not changes:
            return
        new_e_tags: dict[str, str] = {}
        async with self._db.transaction() as tx:
            for key, item in changes.items():
                new_e_tags[key] = await self._write_one(tx, key, item)
        # The caller's copy now matches what is stored, so saving it again in the same turn
        # (BotState.save_changes twice) is not mistaken for a conflict.
        for key, item in changes.items():
            _set_e_tag(item, new_e_tags[key])

    async def _write_one(self, tx: Session, key: str, item: object) -> str:
        expected = _e_tag_of(item)
        if expected == "":
            raise ValueError(
                f"Bot state {key!r} carries an empty e-tag; use None or '*' to write it "
                "unconditionally"
            )
        e_tag = uuid4().hex
        doc = _serialize(item)
        now = self._clock.now()
        if expected is None or expected == "*":
            await tx.execute(
                """
                INSERT INTO bot_state (key, etag, doc, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET
                    etag = excluded.etag, doc = excluded.doc, updated_at = excluded.updated_at""",
                key,
                e_tag,
                doc,
                now,
            )
            return e_tag
        expected = str(expected)
        updated = await tx.execute(
            "UPDATE bot_state SET etag = ?, doc = ?, updated_at = ? WHERE key = ? AND etag = ?",
            e_tag,
            doc,
            now,
            key,
            expected,
        )
        if updated:
            return e_tag
        # Not stored (never written, or deleted since): MemoryStorage writes it then.
        inserted = await tx.execute(
            """
            INSERT INTO bot_state (key, etag, doc, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (key) DO NOTHING""",
            key,
            e_tag,
            doc,
            now,
        )
        if inserted:
            return e_tag
        stored = await tx.fetch_one("SELECT etag FROM bot_state WHERE key = ?", key)
        raise BotStateConflict(key, expected, stored["etag"] if stored else "(deleted)")

    async def delete(self, keys: Iterable[str]) -> None:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return
        marks = ", ".join("?" for _ in unique)
        await self._db.execute(f"DELETE FROM bot_state WHERE key IN ({marks})", *unique)
