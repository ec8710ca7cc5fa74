"""What the bench asks of a bot: the sessions of each scenario (help, a whole handoff
submission, Accept clicks, status, list and insights), and the rows measured on our bot and on the
reference echo bots; the burst of clicks and the memory soak are bench/crowds.py's."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import uuid
from collections.abc import Iterator
from typing import Any

from bench.crowds import BURST_RESERVE, run_bursts, run_soak
from bench.measuring import Measured, Plan, Row, Session, load, measure
from bench.processes import (
    ROOT,
    Bot,
    Connector,
    Processes,
    log,
    rss_mb,
    start_ours,
    start_reference,
)
from bench.seed import Layout

from harness import activities

ACCEPT_CLICKERS = 20
HELP_CONCURRENCY = 32
REQUESTERS = 200
# The bench's engineers. Each person's chat may take 60 sends in 30 s (teams/pacing.py): with
# 64 people a bot doing more than 128 turns/s measured the pacing instead of itself.
PEOPLE = 1024
# A week of all regions, and a month of one: the seeded rollup holds about 6,400 and 6,800
# handoffs in them at a million (bench/seed.py spreads them over three years).
INSIGHTS_COMMANDS = ("insights 7d", "insights EMEA 30d")


def people() -> Iterator[str]:
    """The bench's engineers, round and round (the help warm-up met them all)."""
    return (f"29:bench-user-{n % PEOPLE}" for n in itertools.count())


def help_sessions(service_url: str, count: int, text: str = "help") -> list[Session]:
    return [
        # A steady state: the same people come back (each one's first turn writes its
        # conversation and dialog state; the warm-up takes those).
        [activities.personal_message(text, service_url, user_id=f"29:bench-user-{n % PEOPLE}")]
        for n in range(count)
    ]


def last_form(connector: Connector) -> str:
    for activity in reversed(connector.last_activities()):
        for attachment in activity.get("attachments") or []:
            for action in (attachment.get("content") or {}).get("actions") or []:
                form = (action.get("data") or {}).get("form")
                if form:
                    return str(form)
    return ""


# The example handoff every harness shares (playground/scenario.json), its next contact far
# enough ahead that no run's clock passes it.
_FORMS: dict[str, dict[str, str]] = json.loads(
    (ROOT / "playground" / "scenario.json").read_text(encoding="utf-8")
)["forms"]
CASE_FORM = _FORMS["case"]
TRANSFER_FORM = _FORMS["transfer"]
NOTES_FORM = {**_FORMS["notes"], "next_contact_date": "2030-11-25"}


def submission(service_url: str, case: str, user: str, meeting: bool) -> Session:
    def submit(form: str, values: dict[str, Any]) -> dict[str, Any]:
        value = {"form": form, "action": "next", **values}
        return activities.submit_message(value, service_url, user_id=user, user_name="Bench User")

    turns = [
        activities.personal_message(f"handoff {case}", service_url, user_id=user),
        submit("case", CASE_FORM),
        submit("transfer", TRANSFER_FORM),
        submit("notes", NOTES_FORM),
    ]
    if meeting:
        turns.append(submit("meeting", {"can_attend": "yes"}))
    turns.append(submit("review", {}))
    return turns


class Cases:
    """Fresh case numbers and users for handoff submissions (never used twice in a run)."""

    def __init__(self) -> None:
        self._next = 0

    def take(self) -> tuple[str, str]:
        self._next += 1
        return f"2{self._next:015d}", f"29:bench-submitter-{self._next}"


def probe_meeting_step(bot: Bot, connector: Connector, service_url: str, cases: Cases) -> bool:
    """Whether the dialog asks about the handoff meeting now (it depends on the schedule)."""
    case, user = cases.take()
    turns = submission(service_url, case, user, meeting=False)
    load(bot.messages_url, [turns[:4]], 1, 30)
    connector.settle(quiet=0.3)
    meeting = last_form(connector) == "meeting"
    rest = submission(service_url, case, user, meeting)[4:]
    load(bot.messages_url, [rest], 1, 30)
    return meeting


def accept_sessions(
    service_url: str, layout: Layout, pool: Iterator[int], count: int, version: int
) -> list[Session]:
    sessions = []
    for n, i in zip(range(count), pool, strict=False):
        clicker = f"29:bench-clicker-{n % ACCEPT_CLICKERS}"
        invoke = activities.card_action_invoke(
            "accept",
            {"handoff_id": layout.handoff_id(i), "version": version},
            service_url,
            layout.card_activity(i),
            scope="channel",
            user_id=clicker,
            user_name=f"Clicker {n % ACCEPT_CLICKERS}",
            aad_object_id=str(uuid.uuid5(uuid.NAMESPACE_URL, clicker)),
        )
        sessions.append([invoke])
    return sessions


def bind_channel_and_requesters(
    bot: Bot, connector: Connector, service_url: str, layout: Layout
) -> None:
    """What Teams would have sent before: the bot added to the team, `setup` in the channel,
    and each requester once in a personal chat (so the bot can tell them of the accept)."""
    log(f"{bot.name}: the Case Transfer channel set up, {layout.requesters} requesters met")
    turns = [
        [activities.bot_added_to_team(service_url)],
        [activities.channel_message("setup", service_url)],
    ]
    load(bot.messages_url, turns, 1, 60)
    requesters = [
        [activities.personal_message("help", service_url, user_id=f"29:bench-requester-{n}")]
        for n in range(layout.requesters)
    ]
    load(bot.messages_url, requesters, 8, 60)
    connector.settle()


async def seeded_version(database_url: str, layout: Layout) -> int:
    """The version the seeded open handoffs' cards carry."""
    from handoff.ports import SystemClock
    from storage.sql_store import open_store  # the bot's own reading of its rows

    store = await open_store(database_url, SystemClock())
    try:
        handoff = await store.get(layout.handoff_id(layout.open_emea))
        return handoff.version
    finally:
        await store.close()


def run_ours(
    name: str,
    processes: Processes,
    connector: Connector,
    database_url: str,
    layout: Layout,
    plan: Plan,
    full: bool,
) -> tuple[Bot, Measured]:
    """Every scenario on our bot; ``full`` adds the rows no target reads (help over plain
    HTTP, the handoff submission) when the plan has them."""
    rows: list[Row] = []
    bot = start_ours(processes, name, database_url, connector)
    measured = Measured(name, rows, bot.startup_s)
    https = connector.url(tls=True)
    seconds, repetitions = plan.seconds, plan.repetitions
    full = full and plan.extras
    protocols = [("HTTP", False), ("HTTPS", True)] if full else [("HTTPS", True)]
    for label, tls in protocols:
        url = connector.url(tls)
        rows.append(
            measure(
                Row(f"help, {label} connector, c={HELP_CONCURRENCY}", name),
                bot,
                connector,
                lambda url=url: help_sessions(url, plan.sessions(8000)),
                concurrency=HELP_CONCURRENCY,
                seconds=seconds,
                # Meets everyone once: a person's first turn also stores their chat's address.
                warmup=help_sessions(url, PEOPLE),
                repetitions=repetitions,
            )
        )
    rows.append(
        measure(
            Row("help, HTTPS connector, c=1", name),
            bot,
            connector,
            lambda: help_sessions(https, plan.sessions(3000)),
            concurrency=1,
            seconds=seconds,
            warmup=help_sessions(https, 100),
            repetitions=repetitions,
        )
    )
    # The database scenarios first: the submissions and accepts leave the outbox a backlog
    # (the Case Transfer channel is paced to Teams' 7 sends/s) that would run beside them.
    # `status`, `list` and `insights` answer members of the Case Transfer team only: before
    # `setup` they would measure the refusal.
    bind_channel_and_requesters(bot, connector, https, layout)
    rng = random.Random(7)

    def status_sessions(count: int) -> list[Session]:
        picks = (rng.randrange(layout.total) for _ in range(count))
        # Many people asking, as at a shift change: one person's chat is paced to Teams'
        # 7 messages/s, which would measure the pacing instead.
        return [
            [activities.personal_message(f"status {layout.case_number(i)}", https, user_id=user)]
            for i, user in zip(picks, people(), strict=False)
        ]

    rows.append(
        measure(
            Row(f"status, {layout.total:,} handoffs, c=1", name),
            bot,
            connector,
            lambda: status_sessions(plan.sessions(3000)),
            concurrency=1,
            seconds=seconds,
            # Everyone asks once first, as help's warm-up meets everyone: the bot then knows
            # they are in the team (it asks Teams once per person per 10 minutes), and the
            # row measures the database at a million handoffs rather than first contacts.
            warmup=status_sessions(PEOPLE),
            repetitions=repetitions,
        )
    )
    rows.append(
        measure(
            Row(f"list EMEA ({layout.open_emea} open), c=1", name),
            bot,
            connector,
            lambda: [
                [activities.personal_message("list EMEA", https, user_id=user)]
                for _, user in zip(range(plan.sessions(3000)), people(), strict=False)
            ],
            concurrency=1,
            seconds=seconds,
            warmup=[
                [activities.personal_message("list EMEA", https, user_id=user)]
                for _, user in zip(range(100), people(), strict=False)
            ],
            repetitions=repetitions,
        )
    )
    rows += insights_rows(name, bot, connector, https, layout, plan)
    if full:
        cases = Cases()
        meeting = probe_meeting_step(bot, connector, https, cases)
        per = 6 if meeting else 5

        def submissions(count: int) -> list[Session]:
            return [submission(https, *cases.take(), meeting) for _ in range(count)]

        row = measure(
            Row(f"handoff submission ({per} turns), c=8", name),
            bot,
            connector,
            lambda: submissions(600),
            concurrency=8,
            seconds=seconds,
            warmup=submissions(16),
            background=True,
            repetitions=repetitions,
        )
        row.note = "per turn; the card is posted by the outbox"
        rows.append(row)
    version = asyncio.run(seeded_version(database_url, layout))
    # Before the Accept row: its channel card updates, paced at 7 sends/s, go on for minutes.
    measured.burst = run_bursts(bot, connector, https, database_url, layout, version, plan.bursts)
    regulars = [f"29:bench-user-{n}" for n in range(PEOPLE)]
    measured.soak = run_soak(bot, layout, https, regulars, plan.soak_turns, plan.soak_seconds)
    pool = iter(range(layout.open_emea, layout.open_emea + layout.accept_pool - BURST_RESERVE))
    per_run = (layout.accept_pool - BURST_RESERVE - 100) // repetitions
    rows.append(
        measure(
            Row(f"Accept invoke, c={ACCEPT_CLICKERS}", name),
            bot,
            connector,
            lambda: accept_sessions(https, layout, pool, per_run, version),
            concurrency=ACCEPT_CLICKERS,
            seconds=seconds * 2,
            warmup=accept_sessions(https, layout, pool, 100, version),
            background=True,
            repetitions=repetitions,
        )
    )
    # The channel card PUTs go out at Teams' 7 sends/s per conversation, mostly after the run.
    rows[-1].note = "refreshed card + PUT + DM; channel PUTs paced at 7/s, counted for a run's time"
    for row in rows:
        row.rss = max(row.rss, rss_mb(bot.process.pid, "VmHWM"))
    measured.peak_rss_mb = rss_mb(bot.process.pid, "VmHWM")
    return bot, measured


def insights_rows(
    name: str,
    bot: Bot,
    connector: Connector,
    https: str,
    layout: Layout,
    plan: Plan,
) -> list[Row]:
    """Each insights command over HTTP, one at a time, asked by many people (one person's
    chat is paced to Teams' 7 messages/s)."""
    rows = []
    for command in INSIGHTS_COMMANDS:

        def sessions(count: int, command: str = command) -> list[Session]:
            return [
                [activities.personal_message(command, https, user_id=user)]
                for _, user in zip(range(count), people(), strict=False)
            ]

        rows.append(
            measure(
                Row(f"{command}, {layout.total:,} handoffs, c=1", name),
                bot,
                connector,
                lambda sessions=sessions: sessions(plan.sessions(3000)),
                concurrency=1,
                seconds=plan.seconds,
                warmup=sessions(20),
                repetitions=plan.repetitions,
            )
        )
    return rows


def run_insights(
    name: str,
    processes: Processes,
    connector: Connector,
    database_url: str,
    layout: Layout,
    plan: Plan,
) -> tuple[Bot, Measured]:
    """`bench/run.py --only insights`: the insights rows alone."""
    bot, https = _started_and_bound(name, processes, connector, database_url, layout)
    rows = insights_rows(name, bot, connector, https, layout, plan)
    for row in rows:
        row.rss = max(row.rss, rss_mb(bot.process.pid, "VmHWM"))
    return bot, Measured(name, rows, bot.startup_s, rss_mb(bot.process.pid, "VmHWM"))


def run_soak_alone(
    name: str,
    processes: Processes,
    connector: Connector,
    database_url: str,
    layout: Layout,
    plan: Plan,
) -> tuple[Bot, Measured]:
    """`bench/run.py --only soak`: the memory soak alone, after everyone has met the bot once
    (as `help`'s warm-up meets them in the whole run), for work on memory."""
    bot, https = _started_and_bound(name, processes, connector, database_url, layout)
    load(bot.messages_url, help_sessions(https, PEOPLE), HELP_CONCURRENCY, 60)
    regulars = [f"29:bench-user-{n}" for n in range(PEOPLE)]
    measured = Measured(name, [], bot.startup_s)
    measured.soak = run_soak(bot, layout, https, regulars, plan.soak_turns, plan.soak_seconds)
    measured.peak_rss_mb = rss_mb(bot.process.pid, "VmHWM")
    return bot, measured


def _started_and_bound(
    name: str, processes: Processes, connector: Connector, database_url: str, layout: Layout
) -> tuple[Bot, str]:
    """Our bot started, its channel set up and the requesters met, for a scenario run alone;
    with the connector's HTTPS address."""
    bot = start_ours(processes, name, database_url, connector)
    https = connector.url(tls=True)
    bind_channel_and_requesters(bot, connector, https, layout)
    return bot, https


def run_reference(
    name: str, script: str, processes: Processes, connector: Connector, plan: Plan
) -> list[Row]:
    bot = start_reference(processes, name, script, connector)
    rows = []
    seconds, repetitions = plan.seconds, plan.repetitions
    protocols = (("HTTP", False), ("HTTPS", True)) if plan.extras else (("HTTPS", True),)
    try:
        for label, tls in protocols:
            url = connector.url(tls)
            rows.append(
                measure(
                    Row(f"help, {label} connector, c={HELP_CONCURRENCY}", name),
                    bot,
                    connector,
                    lambda url=url: help_sessions(url, plan.sessions(8000)),
                    concurrency=HELP_CONCURRENCY,
                    seconds=seconds,
                    warmup=help_sessions(url, 200),
                    repetitions=repetitions,
                )
            )
        if not plan.extras:
            return rows  # no target reads the echo bots' c=1 row
        rows.append(
            measure(
                Row("help, HTTPS connector, c=1", name),
                bot,
                connector,
                lambda: help_sessions(connector.url(True), plan.sessions(2000)),
                concurrency=1,
                seconds=seconds,
                warmup=help_sessions(connector.url(True), 50),
                repetitions=repetitions,
            )
        )
    finally:
        processes.stop(bot.process)
    return rows
