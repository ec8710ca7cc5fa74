"""HandledKeys (handoff.ports) on SQL: the idempotency keys of deliveries and card clicks, so a
repeated delivery is recognised on any replica."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from handoff.models import as_utc
from handoff.ports import AlreadyHandled, Clock, KeysClaimed, StoredDocument

from .sql_protocol import Session
from .store_base import StoreBase

# The bot's state document asked for along with a claim (storage/bot_state.py's table).
_READ_ALONG = """,
    (SELECT etag FROM bot_state WHERE key = ?) AS state_etag,
    (SELECT doc FROM bot_state WHERE key = ?) AS state_doc"""


def finish_statement(pairs: int) -> str:
    """Marks done the keys of `pairs` (key, claimant) pairs, given as the keys, then the pairs."""
    # `key IN (...)` too: with the row values alone, SQLite scans the whole table.
    return f"""UPDATE handled_keys SET pending = 0
        WHERE key IN ({", ".join("?" for _ in range(pairs))})
          AND (key, claimed_by) IN (VALUES {", ".join("(?, ?)" for _ in range(pairs))})"""


async def insert_key(session: Session, key: str, clock: Clock) -> bool:
    """Records `key` as handled; False if it was recorded before."""
    # The claim itself: of concurrent inserts (on any replica) exactly one adds the row.
    inserted = await session.execute(
        "INSERT INTO handled_keys (key, claimed_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        key,
        clock.now(),
    )
    return inserted > 0


async def claim_key_in(tx: Session, key: str, clock: Clock) -> None:
    """Records `key` in the change being written; AlreadyHandled (rolling the change back) if
    it was recorded before."""
    if not await insert_key(tx, key, clock):
        raise AlreadyHandled(f"{key} was handled before")


class SqlHandledKeys(StoreBase):
    async def claim_key(self, key: str) -> bool:
        return await insert_key(self._db, key, self._clock)

    async def claim_keys(
        self,
        keys: Sequence[str],
        claimant: str,
        abandoned_after: timedelta,
        read_along: str | None = None,
    ) -> KeysClaimed:
        keys = list(dict.fromkeys(keys))  # one row may not be upserted twice in a statement
        if not keys:
            return KeysClaimed()
        # One statement for all the keys, committed alone (one round trip) and not durably:
        # a delivery's keys are claimed on every turn, and an fsync each time would double
        # the turn's disk waits. Whatever the turn then stores durably flushes the claim with
        # it; a turn that stores nothing (help, status) only gets answered twice if the
        # machine loses power before its redelivery comes.
        # A key seen before is taken over only when its claim is pending and older than the
        # bound; the row lock that ON CONFLICT DO UPDATE takes makes a racing takeover see
        # the winner's fresh claimed_at and update nothing. RETURNING names the rows added or
        # taken over, each with the document read along (subqueries see the statement's
        # snapshot, which the claim does not touch).
        values = ", ".join("(?, ?, ?, 1, 1)" for _ in keys)
        now = self._clock.now()
        read = "" if read_along is None else _READ_ALONG
        rows = await self._db.write_alone(
            f"""INSERT INTO handled_keys (key, claimed_at, claimed_by, pending, attempts)
                VALUES {values}
                ON CONFLICT (key) DO UPDATE SET claimed_at = excluded.claimed_at,
                    claimed_by = excluded.claimed_by,
                    attempts = handled_keys.attempts + 1
                WHERE handled_keys.pending = 1 AND handled_keys.claimed_at < ?
                RETURNING key, attempts{read}""",
            *(value for key in keys for value in (key, now, claimant)),
            now - abandoned_after,
            *((read_along, read_along) if read_along is not None else ()),
            durable=False,
        )
        attempts = {row["key"]: row["attempts"] for row in rows}
        repeated = next((key for key in keys if key not in attempts), None)
        if repeated is not None:
            # What the statement did claim is given back, so nothing stays claimed; a key it
            # took over becomes free rather than abandoned, which comes to the same.
            await self.release_keys(list(attempts), claimant)
            row = await self._db.fetch_one(
                "SELECT pending FROM handled_keys WHERE key = ?", repeated
            )
            in_progress = row is not None and bool(row["pending"])
            return KeysClaimed(repeated=repeated, in_progress=in_progress)
        return KeysClaimed(
            taken_over=frozenset(k for k, n in attempts.items() if n > 1),
            read_along=(
                None
                if read_along is None
                else StoredDocument(e_tag=rows[0]["state_etag"], doc=rows[0]["state_doc"])
            ),
        )

    async def finish_claims(self, claims: Sequence[tuple[Sequence[str], str]]) -> None:
        pairs = [(key, claimant) for keys, claimant in claims for key in keys]
        if not pairs:
            return
        # Not durable, like the claim: losing it to a power cut leaves the claim pending, and
        # only a redelivery after the bound (Teams had no answer) would do the turn again.
        await self._db.write_alone(
            finish_statement(len(pairs)),
            *(key for key, _ in pairs),
            *(value for pair in pairs for value in pair),
            durable=False,
        )

    async def key_claimed(self, key: str) -> bool:
        row = await self._db.fetch_one("SELECT 1 AS seen FROM handled_keys WHERE key = ?", key)
        return row is not None

    async def release_keys(self, keys: Sequence[str], claimant: str) -> None:
        if not keys:
            return
        await self._db.execute(
            f"""DELETE FROM handled_keys
                WHERE key IN ({", ".join("?" for _ in keys)}) AND claimed_by = ? AND pending = 1""",
            *keys,
            claimant,
        )

    async def forget_keys_before(self, cutoff: datetime) -> int:
        return await self._db.execute(
            "DELETE FROM handled_keys WHERE claimed_at < ?", as_utc(cutoff)
        )
