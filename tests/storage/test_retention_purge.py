"""The stores' retention purges (storage/*_store.py, storage/audit_log.py, migration 0012) on
SQLite and PostgreSQL through the parametrized `store` fixture: what each batch deletes, what
it keeps, and that the append-only tables stay append-only for everyone else."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from handoff import effects
from handoff.effects import OutboxKind
from handoff.models import AuditEntry, AuditKind
from handoff.ports import OutboxState
from storage.handoff_store import IS_CLOSED
from storage.sql_store import SqlStore

from conftest import FakeClock
from harness.old_cases import ANA, Cases, count, left_of_case

DAY = timedelta(days=1)
KEEP = 90 * DAY
NOTHING_LEFT = dict.fromkeys(
    [
        "handoffs",
        "handoff_events",
        "handoff_cards",
        "handoff_facts",
        "escalations",
        "escalation_cards",
        "group_chats",
    ],
    0,
)


@pytest.fixture
def cases(store: SqlStore, clock: FakeClock) -> Cases:
    return Cases(store, clock)


async def purge_all(store: SqlStore, clock: FakeClock, limit: int = 500) -> dict[str, int]:
    """What a retention run deletes of cases, all batches, with RETENTION_DAYS = 90: the
    tables it deleted rows from."""
    cutoff = clock.now() - KEEP
    total: dict[str, int] = {}
    for purge in (store.purge_closed_cases, store.purge_escalations, store.purge_group_chats):
        while True:
            counts = await purge(cutoff, limit)
            for table, n in counts.items():
                total[table] = total.get(table, 0) + n
            if not any(counts.values()):
                break
    return {table: n for table, n in total.items() if n}


async def test_a_case_closed_longer_ago_than_the_cutoff_goes_whole(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    first = await cases.cancelled("2311230040000001")
    clock.advance(DAY)
    second = await cases.accepted("2311230040000001")
    await cases.escalated(second, decided=True)
    await cases.chat_made("2311230040000001")
    await cases.settle()
    clock.advance(KEEP + DAY)

    purged = await purge_all(store, clock)

    assert await left_of_case(store, "2311230040000001") == NOTHING_LEFT
    # Each handoff: requested and closed; the escalation's step is in the latest's history.
    assert purged == {
        "handoffs": 2,
        "handoff_events": 5,
        "handoff_cards": 2,
        "handoff_facts": 2,
        "escalations": 1,
        "escalation_cards": 1,
        "group_chats": 1,
        "outbox": 1,
    }
    assert await store.for_case("2311230040000001") == []
    assert await store.history(first.id) == []
    # The chat's first step went with it: the case, back one day, gets a chat made again.
    assert await store.outbox_states(["create_group_chat:2311230040000001"]) == {}


async def test_a_case_closed_within_the_cutoff_stays(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    await cases.accepted("2311230040000002")
    await cases.settle()
    clock.advance(KEEP - DAY)
    before = await left_of_case(store, "2311230040000002")

    assert await purge_all(store, clock) == {}
    assert await left_of_case(store, "2311230040000002") == before
    assert before["handoffs"] == 1 and before["handoff_events"] == 2


async def test_an_open_handoff_stays_however_old_and_keeps_its_case_whole(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    await cases.accepted("2311230040000003")
    clock.advance(DAY)
    still_open = await cases.requested("2311230040000003")
    await cases.chat_made("2311230040000003")
    await cases.escalated(still_open, decided=True)
    await cases.requested("2311230040000004")  # open, nothing else
    await cases.settle()
    clock.advance(10 * KEEP)
    before = await left_of_case(store, "2311230040000003")

    assert await purge_all(store, clock) == {}
    assert await left_of_case(store, "2311230040000003") == before
    assert before == {
        "handoffs": 2,
        "handoff_events": 4,
        "handoff_cards": 2,
        "handoff_facts": 2,
        "escalations": 1,
        "escalation_cards": 1,
        "group_chats": 1,
    }
    assert (await left_of_case(store, "2311230040000004"))["handoffs"] == 1


async def test_a_case_closed_lately_keeps_its_older_handoffs(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    await cases.accepted("2311230040000005")
    clock.advance(KEEP + 10 * DAY)
    await cases.accepted("2311230040000005")
    await cases.settle()
    clock.advance(DAY)

    assert await purge_all(store, clock) == {}
    assert (await left_of_case(store, "2311230040000005"))["handoffs"] == 2


@pytest.mark.parametrize("decided", [False, True])
async def test_an_escalation_pending_or_decided_lately_keeps_the_case(
    store: SqlStore, clock: FakeClock, cases: Cases, decided: bool
) -> None:
    handoff = await cases.accepted("2311230040000006")
    await cases.settle()
    clock.advance(KEEP + DAY)
    # Pending since the case closed, or decided yesterday: the case is not done with.
    await cases.escalated(handoff, decided=decided)

    assert await purge_all(store, clock) == {}
    assert (await left_of_case(store, "2311230040000006"))["escalations"] == 1


async def test_cases_go_a_batch_at_a_time_oldest_first(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    numbers = [f"231123004000010{n}" for n in range(5)]
    for number in numbers:
        await cases.accepted(number)
        clock.advance(timedelta(minutes=1))
    clock.advance(KEEP)
    cutoff = clock.now() - KEEP

    assert (await store.purge_closed_cases(cutoff, 2))["handoffs"] == 2
    left = [n for n in numbers if (await left_of_case(store, n))["handoffs"]]
    assert left == numbers[2:]
    assert (await store.purge_closed_cases(cutoff, 2))["handoffs"] == 2
    assert (await store.purge_closed_cases(cutoff, 2))["handoffs"] == 1
    assert (await store.purge_closed_cases(cutoff, 2))["handoffs"] == 0


async def test_chats_and_escalations_of_a_case_with_handoffs_stay(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    handoff = await cases.accepted("2311230040000007")
    await cases.escalated(handoff, decided=True)
    await cases.chat_made("2311230040000007")
    clock.advance(KEEP + DAY)
    # A handoff of the case came back meanwhile: it is still there.
    await cases.requested("2311230040000007")
    cutoff = clock.now() - KEEP

    assert await store.purge_escalations(cutoff, 500) == {"escalations": 0, "escalation_cards": 0}
    assert await store.purge_group_chats(cutoff, 500) == {"group_chats": 0, "outbox": 0}


async def test_finished_outbox_items_go_after_the_cutoff_and_pending_ones_never(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    old = {key: effects.tell(ANA, "hello", key, clock.now()) for key in ("done", "dead", "due")}
    for message in old.values():
        await store.enqueue_message(message)
    await cases.finish(old["done"].dedupe_key)
    await cases.finish(old["dead"].dedupe_key, dead=True)
    clock.advance(KEEP + DAY)
    recent = effects.tell(ANA, "hello", "recent", clock.now())
    await store.enqueue_message(recent)
    await cases.finish(recent.dedupe_key)
    cutoff = clock.now() - KEEP

    assert await store.purge_finished(cutoff, 1) == 1
    assert await store.purge_finished(cutoff, 500) == 1
    assert await store.purge_finished(cutoff, 500) == 0
    keys = [m.dedupe_key for m in (*old.values(), recent)]
    assert await store.outbox_states(keys) == {
        old["due"].dedupe_key: OutboxState.PENDING,
        recent.dedupe_key: OutboxState.DONE,
    }


async def test_dialogs_untouched_since_the_cutoff_are_forgotten(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    abandoned = [await cases.draft(f"a:abandoned-{n}") for n in range(3)]
    clock.advance(KEEP + DAY)
    typing = await cases.draft("a:typing-now")
    cutoff = clock.now() - KEEP

    assert await store.purge_idle_dialogs(cutoff, 2) == 2
    assert await store.purge_idle_dialogs(cutoff, 2) == 1
    assert await store.purge_idle_dialogs(cutoff, 2) == 0
    keys = [row["key"] for row in await store.database.fetch_all("SELECT key FROM bot_state")]
    assert keys == [typing] and typing not in abandoned


async def test_audit_entries_go_oldest_first_after_their_own_cutoff(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    old = [await cases.channel_bound(f"19:old-{n}") for n in range(3)]
    clock.advance(365 * DAY)
    kept = await cases.channel_bound("19:kept")
    clock.advance(DAY)
    cutoff = clock.now() - 365 * DAY

    assert await store.purge_audit_entries(cutoff, 2) == 2
    assert await store.purge_audit_entries(cutoff, 2) == 1
    assert await store.purge_audit_entries(cutoff, 2) == 0
    assert await store.audit_entries() == [kept]
    assert old[0] not in await store.audit_entries(limit=100)


async def test_after_a_purge_the_history_and_the_audit_log_are_still_append_only(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    await cases.accepted("2311230040000008")
    await cases.channel_bound("19:a")
    await cases.channel_bound("19:a2")  # supersedes 19:a, which may go
    clock.advance(2 * KEEP)
    await purge_all(store, clock)
    await store.purge_audit_entries(clock.now(), 500)

    kept = await cases.accepted("2311230040000009")
    await cases.channel_bound("19:b")
    for table in ("handoff_events", "audit_log"):
        with pytest.raises(Exception, match="append-only"):
            await store.database.execute(f"DELETE FROM {table}")
    assert len(await store.history(kept.id)) == 2
    assert [e.subject for e in await store.audit_entries()] == ["19:b", "19:a2"]
    assert await count(store, "retention_purge") == 0


def test_the_closed_handoffs_index_says_what_the_purge_asks() -> None:
    """The purge's WHERE term and migration 0012's partial index must say the same, or SQLite
    stops using the index (and walks every handoff ever made, each batch)."""
    assert IS_CLOSED == "state IN ('accepted', 'cancelled')"
    migrations = Path(__file__).resolve().parents[2] / "storage" / "migrations"
    for sql in sorted(migrations.glob("*/0012_retention.sql")):
        text = sql.read_text(encoding="utf-8")
        [predicate] = re.findall(r"ON handoffs \(updated_at\) WHERE (state IN \([^)]*\))", text)
        assert predicate == IS_CLOSED, sql


async def test_the_chat_steps_purged_are_only_the_finished_ones(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    await cases.accepted("2311230040000010")
    await cases.chat_made("2311230040000010")
    await cases.settle()
    # Its app install was still waiting when the case went quiet.
    install = effects.group_chat_step(OutboxKind.INSTALL_CHAT_APP, "2311230040000010", clock.now())
    await store.enqueue_message(install)
    clock.advance(KEEP + DAY)

    purged = await purge_all(store, clock)

    assert purged["group_chats"] == 1 and purged["outbox"] == 1
    assert await store.outbox_states([install.dedupe_key]) == {
        install.dedupe_key: OutboxState.PENDING
    }


async def test_the_entries_that_explain_what_is_in_force_stay_however_old(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    """The one who bound the channel still in use, and each person's latest settings, stay:
    only what a later entry superseded goes."""
    bound = await cases.channel_bound("19:in-use")
    clock.advance(3 * 365 * DAY)
    assert await store.purge_audit_entries(clock.now(), 500) == 0
    assert await store.audit_entries() == [bound]
    rebound = await cases.channel_bound("19:moved")
    clock.advance(DAY)
    assert await store.purge_audit_entries(clock.now(), 500) == 1
    assert await store.audit_entries() == [rebound]


async def test_refused_notes_go_by_age_even_the_latest_of_a_case(
    store: SqlStore, clock: FakeClock, cases: Cases
) -> None:
    """A notes refusal explains nothing in force: each goes once older than the cutoff, the
    only (so latest) one of its case too; the channel binding still in use stays."""
    bound = await cases.channel_bound("19:in-use")
    refusals = [
        AuditEntry(
            kind=AuditKind.NOTES_REFUSED,
            actor=ANA,
            at=clock.now(),
            subject=number,
            data={"fixes": ["summary"]},
        )
        for number in ("2311230040000011", "2311230040000012")
    ]
    for entry in refusals:
        await store.add_audit_entry(entry)
    clock.advance(DAY)
    recent = AuditEntry(
        kind=AuditKind.NOTES_REFUSED, actor=ANA, at=clock.now(), subject="2311230040000013"
    )
    await store.add_audit_entry(recent)

    assert await store.purge_audit_entries(clock.now() - timedelta(hours=1), 500) == 2
    assert await store.audit_entries() == [recent, bound]
