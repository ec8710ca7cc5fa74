"""`insights [region] [period]`: how well handoffs work, per period and receiving region (time
to accept, bounces, hops, load, critical cases waiting, notes refused), as one card; and
`insights export [region] [period]`: the rows behind it as a CSV file, sent the Teams way (a
consent card in the personal chat, uploaded once the person accepts). Under the read policy of
`list`: members of the Case Transfer team and leads, asked again when the consent comes back.

The consent card's context holds the period's bounds and region, never the file: the rows are
read again when the consent arrives, for the same fixed [since, until), so no CSV is kept at
rest (no table, no purge) and the context stays a few hundred bytes. The rows then say how
those handoffs stand at upload time, a moment after the offer."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from cards.insights_card import insights_card
from handoff.insights import (
    DEFAULT_TARGET_MINUTES,
    MAX_DAYS,
    HandoffFact,
    Insights,
    Period,
    PeriodError,
    compute,
    parse_period,
    rollup_query,
)
from handoff.models import AuditKind, Severity, as_utc
from handoff.ports import AuditLog, Clock, InsightsReader, UserSettingsStore
from handoff.schedule import Schedule
from i18n import _, ngettext

from . import messages
from .access import RequestAccess
from .reader import reader_zone
from .request import Card, FileCard, Reply, Request

log = logging.getLogger(__name__)


class FiguresStore(InsightsReader, AuditLog, Protocol):
    pass


class Store(FiguresStore, UserSettingsStore, Protocol):
    pass


async def region_insights(
    store: FiguresStore,
    period: Period,
    region: str | None,
    now: datetime,
    targets: Mapping[Severity, int] = DEFAULT_TARGET_MINUTES,
) -> Insights:
    """The figures of the handoffs received by `region` (all, with None) within `period`: what
    `insights` shows, and the weekly digest (application/outbox_steps/digest.py) posts."""
    started = time.perf_counter()
    refusals = await store.audit_entries_between(
        AuditKind.NOTES_REFUSED, period.since, period.until
    )
    rollup = await store.rollup(rollup_query(period, region, now, refusals, targets))
    critical = await store.critical_open(region)
    figures = compute(period, region, rollup, critical, refusals, now, targets)
    log.info(
        "insights computed",
        extra={
            "region": region or "all",
            "days": len(period.days()),
            "handoffs": figures.requested,
            "milliseconds": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return figures


class UploadFailed(Exception):
    """The file did not reach the upload URL (no answer, a timeout, an error status)."""


class FileUploads(Protocol):
    def allowed(self, url: str) -> bool:
        """Whether the rows may go to ``url`` (https, on an allowed host)."""

    async def put(self, url: str, data: bytes) -> None:
        """PUTs the whole file to ``url`` in one range; raises UploadFailed."""


EXPORT = "export"
CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
# Times in the file are UTC whatever the reader's zone, and the header says so: a file is
# passed on, and a column in one person's zone would mislead the next reader.
CSV_HEADER = (
    "case",
    "severity",
    "24x7",
    "route",
    "requested at (UTC)",
    "accepted at (UTC)",
    "owner",
    "minutes to accept",
    "hops",
    "bounces",
    "state",
)


def files_only_in_personal_chat() -> str:
    return _(
        "I can send files only in our personal chat: open it from my name in the Teams app bar "
        "(or search for me under Chat), and write **insights export** there, e.g. "
        "**insights export 30d**."
    )


def export_declined() -> str:
    return _("All right, I will not send the file. Write **insights export** whenever you want it.")


def export_failed() -> str:
    return _(
        "I could not upload the file to your OneDrive just now. Please try again: write "
        "**insights export** with the same period."
    )


def export_unreadable() -> str:
    return _(
        "I cannot read this file offer any more. Write **insights export** again for a new one."
    )


def export_for_someone_else() -> str:
    return _("This file was offered to someone else; I have not sent it.")


def period_problem(problem: str, export: bool) -> str:
    """A period that cannot be read, with examples of the command asked for."""
    if export:
        return _(
            "{problem} For example: **insights export EMEA 30d** or **insights export this week**."
        ).format(problem=problem)
    return _("{problem} For example: **insights EMEA 30d** or **insights this week**.").format(
        problem=problem
    )


def offered_file(period: str, region: str | None, rows: int) -> str:
    """The file offer's description (Teams shows it on the consent card)."""
    if region is None:
        # Translators: {period} is e.g. "the last 7 days" or "this week".
        return ngettext(
            "Handoffs requested {period}, to all regions: {count} row, times in UTC.",
            "Handoffs requested {period}, to all regions: {count} rows, times in UTC.",
            rows,
        ).format(period=period, count=rows)
    # Translators: {period} is e.g. "the last 7 days"; {region} a region code such as EMEA.
    return ngettext(
        "Handoffs requested {period}, to {region}: {count} row, times in UTC.",
        "Handoffs requested {period}, to {region}: {count} rows, times in UTC.",
        rows,
    ).format(period=period, region=region, count=rows)


@dataclass(frozen=True)
class Consent:
    """What the bot does about an answer to a file offer: the messages to send, and whether
    the offer (the consent card) has been dealt with and can go."""

    reply: Reply
    offer_done: bool


def _minutes(seconds: int | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}".removesuffix(".0")


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_csv(
    facts: Sequence[HandoffFact],
    journeys: Sequence[HandoffFact] = (),
    owner_names: Mapping[str, str] | None = None,
) -> bytes:
    """The rows, oldest request first: no notes or customer words, only what the figures use.
    Hops are the case's accepted handoffs over its whole journey, as `insights` counts them
    (``journeys``: its handoffs outside the period); bounces the handoff's back-to-queue and
    more-info rounds; the owner by name (``owner_names``, by handoff id), by Teams id when the
    bot never learnt the name."""
    names = owner_names or {}
    rows = sorted(facts, key=lambda f: (f.requested_at, f.case_number, f.handoff_id))
    hops: dict[str, int] = {}
    for fact in (*rows, *journeys):
        if fact.accepted_at is not None:
            hops[fact.case_number] = hops.get(fact.case_number, 0) + 1
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for fact in rows:
        writer.writerow(
            (
                fact.case_number,
                fact.severity.value,
                "yes" if fact.is_24x7 else "no",
                f"{fact.from_region} -> {fact.target_region}",
                _iso(fact.requested_at),
                _iso(fact.accepted_at),
                names.get(fact.handoff_id) or fact.owner_id or "",
                _minutes(fact.seconds_to_accept),
                hops.get(fact.case_number, 0),
                fact.back_to_queue_rounds + fact.more_info_rounds,
                fact.state.value,
            )
        )
    return out.getvalue().encode("utf-8")


def export_name(period: Period, region: str | None) -> str:
    last = period.until - timedelta(microseconds=1)
    return f"handoffs-{(region or 'all').lower()}-{period.since:%Y%m%d}-{last:%Y%m%d}.csv"


class InsightsView:
    def __init__(
        self,
        store: Store,
        schedule: Schedule,
        clock: Clock,
        access: RequestAccess,
        targets: Mapping[Severity, int] = DEFAULT_TARGET_MINUTES,
        uploads: FileUploads | None = None,
    ) -> None:
        self._store = store
        self._schedule = schedule
        self._clock = clock
        self._access = access
        self._targets = dict(targets)
        self._uploads = uploads or _NoUploads()

    async def insights(self, request: Request) -> Reply:
        # Asked first: a stranger learns nothing, not even which words would have worked.
        refusal = await self._access.see_open(request)
        if refusal is not None:
            return [refusal]
        args = list(request.args)
        if args and args[0].lower() == EXPORT:
            return await self._offer(request, args[1:])
        scope = await self._scope(request, args, export=False)
        if isinstance(scope, str):
            return [scope]
        region, period = scope
        now = self._clock.now()
        figures = await region_insights(self._store, period, region, now, self._targets)
        return [Card(insights_card(figures))]

    async def _scope(
        self, request: Request, args: list[str], *, export: bool
    ) -> tuple[str | None, Period] | str:
        """The region and period the words name, or what to write instead."""
        region: str | None = None
        if args and args[0].upper() in self._schedule.travel_order:
            region = args.pop(0).upper()
        elif args and args[0].isalpha() and args[0].lower() != "this":
            return messages.unknown_region(args[0], self._schedule.travel_order)
        zone = await reader_zone(self._store, request)
        try:
            return region, parse_period(args, self._clock.now(), zone)
        except PeriodError as error:
            return period_problem(str(error), export)

    async def _offer(self, request: Request, args: list[str]) -> Reply:
        """`insights export`: the consent card for the file (asked for after the read policy)."""
        if not request.conversation.personal:
            return [files_only_in_personal_chat()]
        scope = await self._scope(request, args, export=True)
        if isinstance(scope, str):
            return [scope]
        region, period = scope
        facts = await self._store.facts_requested(period.since, period.until, region)
        data = await self._export(period.since, period.until, region, facts)
        context = {
            "export": "insights",
            "since": _iso(period.since),
            "until": _iso(period.until),
            "region": region or "",
            "for": request.actor.id,
        }
        log.info(
            "insights export offered",
            extra={"region": region or "all", "handoffs": len(facts), "bytes": len(data)},
        )
        return [
            FileCard(
                CONSENT_CARD,
                {
                    "description": offered_file(period.label, region, len(facts)),
                    "sizeInBytes": len(data),
                    "acceptContext": context,
                    "declineContext": context,
                },
                name=export_name(period, region),
            )
        ]

    async def consent(self, request: Request, value: Mapping[str, object]) -> Consent:
        """The answer to a file offer (Teams' fileConsent/invoke): on accept, the rows read
        again for the offer's period and PUT to the upload URL Teams gave."""
        context = value.get("context")
        context = context if isinstance(context, dict) else {}
        if not request.conversation.personal:
            # Offers go only to personal chats: an answer from anywhere else was made up.
            log.warning("file consent refused: not in a personal chat")
            return Consent([files_only_in_personal_chat()], offer_done=False)
        refusal = await self._access.see_open(request)
        if refusal is not None:
            log.warning(
                "file consent refused: not under the read policy",
                extra={"actor_id": request.actor.id, "action": str(value.get("action"))[:20]},
            )
            return Consent([refusal], offer_done=False)
        if context.get("for") != request.actor.id:
            log.warning(
                "file consent refused: offered to someone else",
                extra={"actor_id": request.actor.id},
            )
            return Consent([export_for_someone_else()], offer_done=False)
        if value.get("action") == "decline":
            log.info("insights export declined", extra={"actor_id": request.actor.id})
            return Consent([export_declined()], offer_done=True)
        offer = self._offer_of(context)
        info = value.get("uploadInfo")
        if value.get("action") != "accept" or offer is None or not isinstance(info, dict):
            log.warning("file consent unreadable", extra={"action": str(value.get("action"))[:20]})
            return Consent([export_unreadable()], offer_done=False)
        upload_url = str(info.get("uploadUrl") or "")
        if not self._uploads.allowed(upload_url):
            # Asked before the rows are read: the URL comes from the client.
            log.warning("file consent refused: upload URL not https on an allowed host")
            return Consent([export_failed()], offer_done=False)
        since, until, region = offer
        facts = await self._store.facts_requested(since, until, region)
        data = await self._export(since, until, region, facts)
        try:
            await self._uploads.put(upload_url, data)
        except UploadFailed as error:
            log.warning("insights export upload failed", extra={"reason": str(error)[:200]})
            return Consent([export_failed()], offer_done=False)
        log.info("insights export uploaded", extra={"bytes": len(data), "region": region or "all"})
        name = str(info.get("name") or "")
        sent = FileCard(
            FILE_INFO_CARD,
            {
                "uniqueId": str(info.get("uniqueId") or ""),
                "fileType": str(info.get("fileType") or "csv"),
            },
            name=name,
            content_url=str(info.get("contentUrl") or ""),
        )
        return Consent([sent], offer_done=True)

    async def _export(
        self, since: datetime, until: datetime, region: str | None, facts: list[HandoffFact]
    ) -> bytes:
        others = await self._store.case_facts(since, until, region)
        names = await self._store.owner_names(since, until, region)
        # A year of a busy team is hundreds of thousands of rows: written off the event loop,
        # so other people's turns go on meanwhile.
        return await asyncio.to_thread(export_csv, facts, others, names)

    def _offer_of(
        self, context: Mapping[str, object]
    ) -> tuple[datetime, datetime, str | None] | None:
        """The offer's period and region, if they can be read and are ones `insights export`
        could have offered: a period of at most MAX_DAYS that has ended by now."""
        try:
            since = as_utc(datetime.fromisoformat(str(context.get("since"))))
            until = as_utc(datetime.fromisoformat(str(context.get("until"))))
        except ValueError:
            return None
        region = str(context.get("region") or "") or None
        if region is not None and region not in self._schedule.travel_order:
            return None
        if not since < until <= self._clock.now() or until - since > timedelta(days=MAX_DAYS):
            return None
        return since, until, region


class _NoUploads:
    def allowed(self, url: str) -> bool:
        return False

    async def put(self, url: str, data: bytes) -> None:
        raise UploadFailed("no file uploads wired")
