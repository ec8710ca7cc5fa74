"""Many people at once: a burst of 20 clicks on one Case Transfer card at the same instant
(who gets the handoff, and how soon the last clicker hears), and a memory soak of a hundred
thousand cheap turns (the bot's resident memory before and after)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from typing import Any

from bench.measuring import LOAD_TIMEOUT, Burst, Soak, load
from bench.processes import BENCH, DATA, PINNING, ROOT, Bot, Connector, log
from bench.seed import Layout

from harness import activities

BURST_CLICKERS = 20
# The last handoffs of the seeded Accept pool, kept out of the Accept row for the bursts.
BURST_RESERVE = 8
SOAK_CONCURRENCY = 32
# Of the soak's turns: one in twenty from someone the bot has never met (a conversation new
# to every per-conversation cache), one in ten a `status` (a database read), the rest `help`.
SOAK_FRESH_EVERY = 20
SOAK_STATUS_EVERY = 10
SOAK_WARMUP = 500


def burst_clicker(k: int) -> tuple[str, str]:
    # Two digits: no clicker's name is a part of another's ("Clicker 1" of "Clicker 12").
    return f"29:bench-burst-clicker-{k:02d}", f"Burst Clicker {k:02d}"


def burst_invokes(https: str, layout: Layout, i: int, version: int) -> list[dict[str, Any]]:
    """Every clicker's Accept on handoff ``i``'s card in the Case Transfer channel."""
    invokes = []
    for k in range(BURST_CLICKERS):
        user_id, user_name = burst_clicker(k)
        invokes.append(
            activities.card_action_invoke(
                "accept",
                {"handoff_id": layout.handoff_id(i), "version": version},
                https,
                layout.card_activity(i),
                scope="channel",
                user_id=user_id,
                user_name=user_name,
                aad_object_id=str(uuid.uuid5(uuid.NAMESPACE_URL, user_id)),
            )
        )
    return invokes


def burst_once(bot: Bot, invokes: list[dict[str, Any]]) -> dict[str, Any]:
    spec, result = DATA / "burst-spec.json", DATA / "burst-result.json"
    spec.write_text(
        json.dumps({"url": bot.messages_url, "ready_url": f"{bot.url}/healthz", "invokes": invokes})
    )
    result.unlink(missing_ok=True)
    command = [sys.executable, str(BENCH / "burst.py"), str(spec), str(result)]
    subprocess.run(PINNING.load_command(command), cwd=ROOT, check=True, timeout=LOAD_TIMEOUT)
    outcome: dict[str, Any] = json.loads(result.read_text())
    return outcome


def run_bursts(
    bot: Bot,
    connector: Connector,
    https: str,
    database_url: str,
    layout: Layout,
    version: int,
    bursts: int,
) -> Burst:
    """One warm-up burst, then ``bursts`` measured ones, each on a handoff of its own, the
    outbox's sends of the one before settled first; then who got each handoff, checked."""
    log(f"{bot.name}: bursts of {BURST_CLICKERS} clicks on one card")
    first = layout.open_emea + layout.accept_pool - BURST_RESERVE
    burst = Burst()
    answered: dict[str, list[dict[str, Any]]] = {}
    for n in range(min(bursts, BURST_RESERVE - 1) + 1):
        outcome = burst_once(bot, burst_invokes(https, layout, first + n, version))
        if n > 0:
            burst.last_ms.append(outcome["last_ms"])
        answered[layout.handoff_id(first + n)] = outcome["answers"]
        connector.settle(quiet=0.4)
    burst.problems = asyncio.run(check_owners(database_url, answered))
    return burst


async def check_owners(database_url: str, answered: dict[str, list[dict[str, Any]]]) -> list[str]:
    """What a clicker would find wrong: the handoff not accepted by one of them, accepted more
    than once, an error for anyone, or someone not told who has it."""
    from handoff.models import HandoffState
    from handoff.ports import SystemClock
    from storage.sql_store import open_store

    clickers = {burst_clicker(k)[0] for k in range(BURST_CLICKERS)}
    problems = []
    store = await open_store(database_url, SystemClock())
    try:
        for handoff_id, answers in answered.items():
            handoff = await store.get(handoff_id)
            owner = handoff.owner
            if handoff.state != HandoffState.ACCEPTED or owner is None or owner.id not in clickers:
                problems.append(f"{handoff_id}: {handoff.state.value}, not a clicker's")
                continue
            accepts = [
                e for e in await store.history(handoff_id) if e.to_state == HandoffState.ACCEPTED
            ]
            if len(accepts) != 1:
                problems.append(f"{handoff_id}: accepted {len(accepts)} times")
            failed = [a["status"] for a in answers if a["status"] != 200]
            if failed:
                problems.append(f"{handoff_id}: answers {failed}")
            # The owner sees the card they took; the 19 others, whom it went to.
            untold = [
                a["user"]
                for a in answers
                if a["user"] != owner.id and (owner.name or owner.id) not in a["body"]
            ]
            if untold:
                problems.append(f"{handoff_id}: {len(untold)} clickers not told who has it")
    finally:
        await store.close()
    return problems


def run_soak(
    bot: Bot, layout: Layout, https: str, people: list[str], turns: int, bound: float
) -> Soak:
    """A warm-up of the soak's own mix, then ``turns`` turns (or as many as ``bound`` seconds
    allow) at c=32, the bot's RSS read from /proc before, during and after."""
    cases = [layout.case_number(i) for i in range(0, layout.total, max(layout.total // 997, 1))]

    def soak(count: int, prefix: str) -> dict[str, Any]:
        return {
            "service_url": https,
            "turns": count,
            "regulars": people,
            "fresh_prefix": prefix,
            "fresh_every": SOAK_FRESH_EVERY,
            "status_every": SOAK_STATUS_EVERY,
            "cases": cases,
            # Ids no other run of the bench sends (Teams' are epoch milliseconds).
            "id_base": int(time.time() * 1000) * 1_000_000,
        }

    log(f"{bot.name}: memory soak of {turns:,} turns, at most {bound:g} s")
    load(bot.messages_url, [], SOAK_CONCURRENCY, 60, soak=soak(SOAK_WARMUP, "29:soak-warm-"))
    outcome = load(
        bot.messages_url,
        [],
        SOAK_CONCURRENCY,
        bound,
        soak=soak(turns, "29:soak-new-"),
        rss_pid=bot.process.pid,
        rss_every_s=1.0,
    )
    return Soak(
        asked=turns,
        turns=outcome["turns"],
        seconds=outcome["seconds"],
        samples=[(int(turns), mb) for turns, mb in outcome["rss"]],
        errors=sum(outcome["errors"].values()),
    )
