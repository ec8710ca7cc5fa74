"""Contract of the idempotency keys (storage.handled_keys_store) on SQLite and PostgreSQL: one
claim wins however many callers, on however many stores, takeovers of a claim abandoned
mid-turn included. (That a key given with a change is recorded with it or not at all is in
test_handoff_store and test_escalation_store.)"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from handoff.ports import KeysClaimed
from storage.database import open_database
from storage.handled_keys_store import finish_statement
from storage.migrate import _SCHEMA_MIGRATIONS, load_migrations
from storage.sql_store import SqlStore, open_store

from conftest import FakeClock

PROVISIONAL_KEYS_MIGRATION = 10


async def test_a_key_is_claimed_once_across_replicas(
    store: SqlStore, second_store: SqlStore
) -> None:
    stores = [store, second_store] * 10
    won = await asyncio.gather(*(s.claim_key("delivery:abc") for s in stores))
    assert won.count(True) == 1
    assert await second_store.key_claimed("delivery:abc")
    assert not await store.key_claimed("delivery:other")


# How long a delivery's turn may hold its keys unfinished (Settings.delivery_abandoned_after).
BOUND = timedelta(seconds=15)


JUST_PAST_BOUND = BOUND + timedelta(milliseconds=1)


async def test_a_deliverys_keys_are_claimed_together_or_not_at_all(
    store: SqlStore, second_store: SqlStore
) -> None:
    assert await store.claim_keys(["delivery:1", "content:1"], "a#1", BOUND) == KeysClaimed()
    assert await second_store.key_claimed("delivery:1")
    assert await second_store.key_claimed("content:1")
    # A redelivery with a new id but the same content: the repeat is named, nothing recorded.
    repeat = await second_store.claim_keys(["delivery:2", "content:1"], "b#1", BOUND)
    assert repeat.repeated == "content:1"
    assert not await store.key_claimed("delivery:2")


async def test_a_released_claim_can_be_claimed_again_and_only_its_claimant_releases_it(
    store: SqlStore,
) -> None:
    assert (await store.claim_keys(["k"], "a#1", BOUND)).repeated is None
    await store.release_keys(["k"], "someone-else#1")
    assert (await store.claim_keys(["k"], "b#1", BOUND)).repeated == "k"
    await store.release_keys(["k"], "a#1")
    assert not await store.key_claimed("k")
    assert (await store.claim_keys(["k"], "b#1", BOUND)).repeated is None


async def test_a_pending_claim_is_a_repeat_until_the_bound_and_taken_over_after_it(
    store: SqlStore, second_store: SqlStore, clock: FakeClock
) -> None:
    """A replica died mid-turn: its claim stays pending, and Teams' redelivery of the same
    activity is handled once the bound has passed, by any replica."""
    keys = ["delivery:1", "content:1"]
    await store.claim_keys(keys, "dead#1", BOUND)
    clock.advance(BOUND)
    repeat = await second_store.claim_keys(keys, "alive#1", BOUND)
    assert repeat.repeated is not None, "at the bound the first turn may still be running"
    assert repeat.in_progress, "pending, not done"

    clock.advance(timedelta(milliseconds=1))
    taken = await second_store.claim_keys(keys, "alive#1", BOUND)
    assert taken == KeysClaimed(taken_over=frozenset(keys))
    # The taker holds the keys now: the dead turn's finish or release changes nothing...
    await store.finish_claims([(keys, "dead#1")])
    await store.release_keys(keys, "dead#1")
    assert await store.key_claimed("delivery:1")
    # ...so the keys are still pending, now for the taker: taken over again if it dies too.
    clock.advance(JUST_PAST_BOUND)
    again = await store.claim_keys(keys, "third#1", BOUND)
    assert again == KeysClaimed(taken_over=frozenset(keys))


async def test_a_finished_claim_blocks_repeats_for_good(
    store: SqlStore, second_store: SqlStore, clock: FakeClock
) -> None:
    keys = ["delivery:1", "content:1"]
    await store.claim_keys(keys, "a#1", BOUND)
    await store.finish_claims([(keys, "a#1")])
    clock.advance(timedelta(hours=12))
    repeat = await second_store.claim_keys(["delivery:2", "content:1"], "b#1", BOUND)
    assert repeat.repeated == "content:1"
    assert not repeat.in_progress, "done"
    # A finished claim is not released either: the work it stood for was done.
    await store.release_keys(keys, "a#1")
    assert await second_store.key_claimed("delivery:1")


async def test_a_takeover_blocked_by_a_finished_key_takes_nothing_over(
    store: SqlStore, second_store: SqlStore, clock: FakeClock
) -> None:
    await store.claim_keys(["content:1"], "a#1", BOUND)
    await store.finish_claims([(["content:1"], "a#1")])
    await store.claim_keys(["delivery:2"], "dead#1", BOUND)
    clock.advance(JUST_PAST_BOUND)
    repeat = await second_store.claim_keys(["delivery:2", "content:1"], "b#1", BOUND)
    assert repeat.repeated == "content:1"
    # delivery:2 stayed the dead turn's claim: the takeover of it was rolled back.
    await store.release_keys(["delivery:2"], "dead#1")
    assert not await store.key_claimed("delivery:2")


async def test_of_replicas_taking_over_the_same_abandoned_claim_at_once_one_wins(
    store: SqlStore, second_store: SqlStore, clock: FakeClock
) -> None:
    keys = ["delivery:1", "content:1"]
    await store.claim_keys(keys, "dead#1", BOUND)
    clock.advance(JUST_PAST_BOUND)
    stores = [store, second_store] * 10
    outcomes = await asyncio.gather(
        *(s.claim_keys(keys, f"replica-{n}#1", BOUND) for n, s in enumerate(stores))
    )
    winners = [n for n, outcome in enumerate(outcomes) if outcome.repeated is None]
    assert len(winners) == 1, outcomes
    assert outcomes[winners[0]].taken_over == frozenset(keys)
    # The winner's claim is fresh: no one takes it over before its own bound.
    assert (await store.claim_keys(keys, "late#1", BOUND)).repeated is not None


async def test_a_card_clicks_key_is_done_and_never_taken_over(
    store: SqlStore, clock: FakeClock
) -> None:
    assert await store.claim_key("card:1:bo:accept:1")
    clock.advance(timedelta(hours=1))
    repeat = await store.claim_keys(["card:1:bo:accept:1"], "b#1", BOUND)
    assert repeat.repeated == "card:1:bo:accept:1"


async def test_keys_claimed_before_the_upgrade_count_as_done(
    database_url: str, clock: FakeClock
) -> None:
    """Migration 0010 leaves the keys of deliveries handled by the previous release blocking
    their repeats, however old."""
    db = await open_database(database_url)
    try:
        for migration in load_migrations(db.dialect):
            if migration.version >= PROVISIONAL_KEYS_MIGRATION:
                break
            async with db.transaction() as tx:
                await tx.execute(_SCHEMA_MIGRATIONS[db.dialect])
                await tx.execute_script(migration.sql)
                await tx.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    migration.version,
                    migration.name,
                    clock.now(),
                )
        await db.execute(
            "INSERT INTO handled_keys (key, claimed_at) VALUES (?, ?)", "delivery:old", clock.now()
        )
    finally:
        await db.close()
    clock.advance(timedelta(hours=1))
    upgraded = await open_store(database_url, clock)
    try:
        repeat = await upgraded.claim_keys(["delivery:old"], "b#1", BOUND)
        assert repeat.repeated == "delivery:old"
    finally:
        await upgraded.close()


async def test_old_keys_are_forgotten(store: SqlStore, clock: FakeClock) -> None:
    await store.claim_key("old")
    clock.advance(timedelta(days=2))
    await store.claim_key("new")
    assert await store.forget_keys_before(clock.now() - timedelta(days=1)) == 1
    assert not await store.key_claimed("old")
    assert await store.key_claimed("new")


async def test_a_key_given_twice_in_one_delivery_is_claimed_once(store: SqlStore) -> None:
    assert await store.claim_keys(["delivery:1", "delivery:1"], "a#1", BOUND) == KeysClaimed()
    assert await store.key_claimed("delivery:1")
    assert await store.claim_keys([], "a#1", BOUND) == KeysClaimed()
    repeat = await store.claim_keys(["delivery:1"], "b#1", BOUND)
    assert (repeat.repeated, repeat.in_progress) == ("delivery:1", True)


async def test_claims_finished_together_are_done_each_for_its_own_claimant_only(
    store: SqlStore, second_store: SqlStore, clock: FakeClock
) -> None:
    await store.claim_keys(["delivery:1", "content:1"], "a#1", BOUND)
    await store.claim_keys(["delivery:2"], "dead#2", BOUND)
    clock.advance(JUST_PAST_BOUND)
    await second_store.claim_keys(["delivery:2"], "b#1", BOUND)  # taken over
    await store.claim_keys(["delivery:3"], "a#3", BOUND)

    # The dead claimant's late finish is one of the batch: it must not finish b's claim.
    await store.finish_claims(
        [(["delivery:1", "content:1"], "a#1"), (["delivery:2"], "dead#2"), (["delivery:3"], "a#3")]
    )

    clock.advance(JUST_PAST_BOUND)
    for key in ("delivery:1", "content:1", "delivery:3"):
        repeat = await second_store.claim_keys([key], "c#1", BOUND)
        assert repeat.repeated == key and not repeat.in_progress, f"{key} is done"
    assert await second_store.claim_keys(["delivery:2"], "c#2", BOUND) == KeysClaimed(
        taken_over=frozenset({"delivery:2"})
    ), "b's claim stayed pending, so it is taken over past the bound"


async def test_the_finish_statement_looks_keys_up_rather_than_reading_the_table(
    sqlite_url: str, clock: FakeClock
) -> None:
    """SQLite plans `(key, claimed_by) IN (VALUES ...)` alone as a scan of the whole table:
    a millisecond more a turn once it holds a day of keys."""
    store = await open_store(sqlite_url, clock)
    try:
        params = ["k1", "k2", "k3", "k1", "a#1", "k2", "a#1", "k3", "a#1"]
        plan = await store.database.fetch_all(f"EXPLAIN QUERY PLAN {finish_statement(3)}", *params)
    finally:
        await store.close()
    details = " ".join(str(row["detail"]) for row in plan)
    assert "handled_keys" in details and "SCAN handled_keys" not in details, details
