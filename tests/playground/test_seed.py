"""The playground's waiting handoff and its people's regions, seeded once into a real SQLite
file through the same readers and service as the dialog."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import yaml

from handoff.models import AuditEntry, AuditKind, HandoffState
from handoff.ports import SystemClock
from handoff.user_settings import UserSettings, changes
from playground.launch import playground_people, write_process_config
from playground.seed import SEED_FILE, person_of, seed
from storage.sql_store import open_store

from conftest import FakeClock

SEED = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8"))
PEOPLE = playground_people()
EVERYONE = {user["id"]: user for user in [PEOPLE["currentUser"], *PEOPLE["users"]]}


def test_a_handoff_by_someone_else_waits_for_the_person_at_the_keyboard(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    clock = FakeClock(datetime(2026, 12, 3, 14, 0, tzinfo=UTC))
    waiting = seed(url, write_process_config(tmp_path), PEOPLE, clock)

    requester = EVERYONE[SEED["requester"]]
    assert waiting.created and waiting.case == SEED["case"]
    assert waiting.requester == requester["name"] != PEOPLE["currentUser"]["name"]

    async def stored() -> None:
        store = await open_store(url, SystemClock())
        try:
            handoff = await store.latest_for_case(waiting.case)
            mine = await store.user_settings(PEOPLE["currentUser"]["id"])
        finally:
            await store.close()
        assert handoff is not None and handoff.state is HandoffState.REQUESTED
        assert handoff.requester.id == requester["id"]
        assert (handoff.from_region, handoff.target_region) == ("APAC", "EMEA")
        assert handoff.case.is_critical, "Accept on a critical case is the one that matters"
        assert handoff.outputs is not None and handoff.outputs.title.startswith("<Need EMEA")
        contact = handoff.notes.next_customer_contact
        assert contact is not None and contact.at > clock.now(), "the commitment is still ahead"
        assert mine is not None and mine.region == "EMEA", "the form proposes the own region"

    asyncio.run(stored())


def test_seeding_again_changes_nothing_and_keeps_what_people_saved(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'handoff.db'}"
    process = write_process_config(tmp_path)
    me = person_of(PEOPLE["currentUser"])
    first = seed(url, process, PEOPLE)

    async def save_us() -> None:
        store = await open_store(url, SystemClock())
        try:
            saved = UserSettings(person=me, region="US")
            entry = AuditEntry(
                kind=AuditKind.SETTINGS_CHANGED,
                actor=me,
                at=datetime.now(UTC),
                subject=me.id,
                data=changes(None, saved),
            )
            await store.save_user_settings(saved, entry)
        finally:
            await store.close()

    asyncio.run(save_us())
    again = seed(url, process, PEOPLE)
    assert first.created and not again.created and again.case == first.case

    async def counted() -> tuple[int, str | None]:
        store = await open_store(url, SystemClock())
        try:
            rows = await store.database.fetch_all("SELECT COUNT(*) AS n FROM handoffs")
            mine = await store.user_settings(me.id)
        finally:
            await store.close()
        return int(rows[0]["n"]), mine.region if mine else None

    assert asyncio.run(counted()) == (1, "US"), "one handoff; the region the person chose"
