"""What `make playground` puts in its database before the bot starts (playground/seed.yaml):
a handoff requested by another engineer, so the one person at the keyboard can press Accept
as soon as the channel is bound, and the regions the playground's people would have saved
with `settings region`.

The handoff goes through the same form readers, next-step chart and service as one typed in
the dialog, so its card is the real thing. Seeding is done once: a database that already has
the case (or a person's settings) is left as it is.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from application.assembly import build_service
from config.process import ProcessConfig, load_process_config
from dialogs.handoff_draft import Draft, HandoffDeps
from handoff.models import AuditEntry, AuditKind, Person
from handoff.ports import Clock, SystemClock
from handoff.request import Queue, compose_outputs
from handoff.user_settings import UserSettings, changes
from storage.sql_store import SqlStore, open_store

log = logging.getLogger(__name__)

SEED_FILE = Path(__file__).with_name("seed.yaml")


@dataclass(frozen=True)
class Seeded:
    """The waiting handoff: its case, who asked, and whether this start made it."""

    case: str
    requester: str
    created: bool


def person_of(user: dict[str, Any]) -> Person:
    """A playground person as the bot knows them from their activities."""
    return Person(id=user["id"], name=user["name"], aad_object_id=user.get("aadObjectId"))


def seed(
    database_url: str,
    process_file: Path,
    people: dict[str, Any],
    clock: Clock | None = None,
    seed_file: Path = SEED_FILE,
) -> Seeded:
    """Seeds the database at ``database_url`` (made and migrated if need be) and says what
    waits there."""
    data: Any = yaml.safe_load(seed_file.read_text(encoding="utf-8"))
    process = load_process_config(process_file)
    return asyncio.run(_seed(database_url, process, people, data, clock or SystemClock()))


async def _seed(
    database_url: str, process: ProcessConfig, people: dict[str, Any], data: Any, clock: Clock
) -> Seeded:
    everyone = {user["id"]: user for user in [people["currentUser"], *people["users"]]}
    store = await open_store(database_url, clock)
    try:
        await _save_regions(store, data["regions"], everyone, clock)
        return await _request_handoff(store, data, everyone[data["requester"]], process, clock)
    finally:
        await store.close()


async def _save_regions(
    store: SqlStore, regions: dict[str, str], everyone: dict[str, Any], clock: Clock
) -> None:
    for user_id, region in regions.items():
        person = person_of(everyone[user_id])
        if await store.user_settings(person.id) is not None:
            continue  # saved by the person in an earlier run: theirs now
        settings = UserSettings(person=person, region=region)
        audit = AuditEntry(
            kind=AuditKind.SETTINGS_CHANGED,
            actor=person,
            at=clock.now(),
            subject=person.id,
            data=changes(None, settings),
        )
        await store.save_user_settings(settings, audit)


async def _request_handoff(
    store: SqlStore, data: Any, requester: dict[str, Any], process: ProcessConfig, clock: Clock
) -> Seeded:
    number = str(data["case"])
    if await store.latest_for_case(number) is not None:
        return Seeded(number, requester["name"], created=False)
    service = build_service(store, process, clock)
    deps = HandoffDeps(
        repository=store, service=service, process=process, schedule=process.schedule(), clock=clock
    )
    forms = data["forms"]
    customer_zone = ZoneInfo(forms["case"]["customer_timezone"])
    contact = clock.now().astimezone(customer_zone).date() + timedelta(
        days=int(data["next_contact_in_days"])
    )
    answers = {
        "case_number": number,
        "case": forms["case"],
        "transfer": forms["transfer"],
        "notes": {**forms["notes"], "next_contact_date": contact.isoformat()},
        "meeting": forms["meeting"],
    }
    draft = Draft(deps, answers)
    handoff_answers = draft.handoff_answers()
    queue = Queue(process.queue.address, process.queue.subject_prefix)
    outputs = compose_outputs(handoff_answers, draft.next_step(), queue)
    await service.request(handoff_answers, outputs, person_of(requester))
    log.info("seeded a waiting handoff", extra={"case": number, "requester": requester["id"]})
    return Seeded(number, requester["name"], created=True)
