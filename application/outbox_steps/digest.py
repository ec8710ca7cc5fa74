"""The weekly digest (issue 18): on Monday mornings, in each region's shift zone, that region's
insights for the week before go to the Case Transfer channel. Planned with the reminders
(application/outbox_steps/reminders.py) as one outbox item per region and ISO week, whose key
makes it once however many bot processes plan it; team leads turn it off with `settings digest
off`, which stops the planning and any digest already planned."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Protocol
from zoneinfo import ZoneInfo

from application.channel import case_transfer_channel
from application.insights import FiguresStore, region_insights
from application.outbox_steps.sender import Sender
from application.request import Card
from cards.insights_card import insights_card
from config.process import ProcessConfig
from handoff import effects
from handoff.effects import OutboxKind
from handoff.insights import Period
from handoff.ports import Clock, ConversationStore, Outbox, OutboxItem, SettingsStore
from i18n import _, speaking
from outbox.worker import Handler, SendJournal

log = logging.getLogger(__name__)

# The team-level setting (bot_settings) that turns the digest off; anything else, or none, is on.
DIGEST_SETTING = "weekly_digest"
OFF = "off"
# Where a region has no shift in the process file, and so no zone of its own.
NO_SHIFT_ZONE = "Etc/UTC"
WEEK = dt.timedelta(days=7)


class Store(FiguresStore, SettingsStore, ConversationStore, Outbox, Protocol):
    pass


async def digest_on(store: SettingsStore) -> bool:
    return await store.get_setting(DIGEST_SETTING) != OFF


def _local(day: dt.date, wall: dt.time, zone: ZoneInfo) -> dt.datetime:
    # The zone's own rules on that day, so a DST change moves the UTC instant, not the local
    # time (no Monday morning falls in a gap or an overlap).
    return dt.datetime.combine(day, wall, tzinfo=zone).astimezone(dt.UTC)


def next_digest(zone_name: str, wall: dt.time, now: dt.datetime) -> tuple[dt.datetime, str]:
    """When the next digest is due (Monday `wall` in the zone, at or after `now`) and its ISO
    week, as the dedupe key names it ("2027-W13")."""
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    monday = today - dt.timedelta(days=today.weekday())
    due = _local(monday, wall, zone)
    if due < now:
        monday += WEEK
        due = _local(monday, wall, zone)
    year, week, _day = monday.isocalendar()
    return due, f"{year}-W{week:02d}"


def week_before(zone_name: str, due: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[Monday 00:00, Monday 00:00) of the week before the one `due` falls in, in the zone:
    seven calendar days, whatever their length in hours across a DST change."""
    zone = ZoneInfo(zone_name)
    monday = due.astimezone(zone).date()
    monday -= dt.timedelta(days=monday.weekday())
    return _local(monday - WEEK, dt.time(0), zone), _local(monday, dt.time(0), zone)


class DigestHandlers:
    def __init__(self, store: Store, sender: Sender, clock: Clock, process: ProcessConfig) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock
        self._schedule = process.schedule()
        self._configured_channel = process.case_transfer.channel_id
        self._team_language = process.case_transfer.language
        self._time = process.insights.digest_time
        self._targets = process.insights.targets()

    def table(self) -> dict[str, Handler]:
        return {OutboxKind.WEEKLY_DIGEST: self.weekly_digest}

    def zone(self, region: str) -> str:
        shift = self._schedule.shift_of(region)
        return shift.timezone if shift is not None else NO_SHIFT_ZONE

    async def plan(self, now: dt.datetime) -> None:
        """Each region's next digest, unless the leads turned it off; every planning round
        asks again, the keys make each one once."""
        if not await digest_on(self._store):
            return
        for region in self._schedule.travel_order:
            zone = self.zone(region)
            due, week = next_digest(zone, self._time, now)
            since, until = week_before(zone, due)
            await self._store.enqueue_message(
                effects.weekly_digest(region, week, since, until, zone, due)
            )

    async def weekly_digest(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        region, week = item.payload["region"], item.payload["week"]
        where = {"region": region, "week": week}
        # Asked when it runs: turned off after it was planned stops this week's too.
        if not await digest_on(self._store):
            log.info("weekly digest turned off: not posted", extra=where)
            return
        channel_id = await case_transfer_channel(self._store, self._configured_channel)
        address = await self._store.channel_conversation(channel_id) if channel_id else None
        if address is None:
            # Nothing to retry: the next week's digest finds the channel once it is set up.
            log.info("no Case Transfer channel for the weekly digest", extra=where)
            return
        # The team's channel reads it: in the team's language (case_transfer.language).
        with speaking(self._team_language):
            period = Period(
                dt.datetime.fromisoformat(item.payload["since"]),
                dt.datetime.fromisoformat(item.payload["until"]),
                # Translators: the period a weekly digest covers, as its card names it.
                _("last week"),
                item.payload["zone"],
            )
            figures = await region_insights(
                self._store, period, region, self._clock.now(), self._targets
            )
            card = Card(insights_card(figures))
        await self._sender.send(address.reference, card, journal)
        log.info("weekly digest posted", extra={**where, "handoffs": figures.requested})
