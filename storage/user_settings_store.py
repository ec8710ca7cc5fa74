"""UserSettingsStore (handoff.ports) on SQL: each person's own settings (working hours,
reminders), saved together with the audit entry that records the change."""

from __future__ import annotations

import time
from collections.abc import Callable

from caches.times_by_key import TimesByKey, key_of
from handoff.models import AuditEntry
from handoff.user_settings import UserSettings

from .audit_log import insert_audit_entry
from .store_base import StoreBase


class ChosenLanguages:
    """The language each person chose, as this process last read or saved it. A turn asks it
    before it says anything, so a round trip per turn is spared; a change saved by another
    replica is seen within MAX_AGE_SECONDS, one saved here at once.

    Only the last MAX_AGE_SECONDS of people are worth keeping; the older ones are swept out
    whenever twice as many are kept as after the last sweep. A person is kept by the hash of
    their id, not the id (which an entry would keep alive): two people of one hash would
    read each other's choice, a language, for at most MAX_AGE_SECONDS."""

    MAX_AGE_SECONDS = 60.0
    SWEEP_ABOVE = 1024

    def __init__(self, seconds: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        # When each person's choice was read (16 bytes a person), and the language of the few
        # who chose one.
        self._read_at = TimesByKey()
        self._languages: dict[int, str] = {}
        self._sweep_above = self.SWEEP_ABOVE

    def get(self, user_id: str) -> tuple[bool, str | None]:
        """(known, language): known is False when it must be read again."""
        key = key_of(user_id)
        read_at = self._read_at.get(key)
        if read_at is None or self._seconds() - read_at > self.MAX_AGE_SECONDS:
            return False, None
        return True, self._languages.get(key)

    def put(self, user_id: str, language: str | None) -> None:
        now = self._seconds()
        if len(self._read_at) >= self._sweep_above:
            self._read_at.keep(lambda read_at: now - read_at <= self.MAX_AGE_SECONDS)
            self._languages = {
                key: chosen
                for key, chosen in self._languages.items()
                if self._read_at.get(key) is not None
            }
            self._sweep_above = max(self.SWEEP_ABOVE, 2 * len(self._read_at))
        key = key_of(user_id)
        self._read_at.put(key, now)
        if language is None:
            self._languages.pop(key, None)
        else:
            self._languages[key] = language

    def __len__(self) -> int:
        return len(self._read_at)


class SqlUserSettingsStore(StoreBase):
    _chosen: ChosenLanguages | None = None

    @property
    def chosen_languages(self) -> ChosenLanguages:
        if self._chosen is None:
            self._chosen = ChosenLanguages()
        return self._chosen

    async def chosen_language(self, user_id: str) -> str | None:
        """The language the person chose with `settings language`, None if none."""
        known, language = self.chosen_languages.get(user_id)
        if not known:
            settings = await self.user_settings(user_id)
            language = settings.language if settings else None
            self.chosen_languages.put(user_id, language)
        return language

    async def user_settings(self, user_id: str) -> UserSettings | None:
        row = await self._db.fetch_one("SELECT doc FROM user_settings WHERE user_id = ?", user_id)
        return UserSettings.model_validate_json(row["doc"]) if row else None

    async def save_user_settings(self, settings: UserSettings, audit: AuditEntry) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                """
                INSERT INTO user_settings (user_id, doc, muted, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET doc = excluded.doc, muted = excluded.muted,
                    updated_at = excluded.updated_at""",
                settings.person.id,
                settings.model_dump_json(),
                int(settings.muted),
                self._clock.now(),
            )
            await insert_audit_entry(tx, audit)
        self.chosen_languages.put(settings.person.id, settings.language)

    async def reminded_users(self) -> list[UserSettings]:
        """Everyone who has not muted reminders."""
        rows = await self._db.fetch_all(
            "SELECT doc FROM user_settings WHERE muted = 0 ORDER BY user_id"
        )
        return [UserSettings.model_validate_json(row["doc"]) for row in rows]
