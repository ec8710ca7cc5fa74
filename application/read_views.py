"""Where cases stand (R-STATUS): `status`, `list`, `mine`, `agenda` and `shifts`. The same words
work as an @mention in a channel and in a personal chat; each asks the read policy first."""

from __future__ import annotations

import logging

from cards.transfer_card import agenda_card, handoff_card, handoff_list_card
from handoff.journey import Journey, case_journey
from handoff.models import AuditEvent, Handoff, HandoffState, case_number_from, latest_of
from handoff.ports import Clock, HandoffRepository, UserSettingsStore
from handoff.schedule import Schedule
from handoff.shifts import RegionNow, agenda, overview
from i18n import _, formats

from . import messages
from .access import RequestAccess
from .reader import reader_zone
from .request import Card, Reply, Request

log = logging.getLogger(__name__)

LIST_LIMIT = 25


class ReadViews:
    def __init__(
        self,
        store: HandoffRepository,
        settings: UserSettingsStore,
        schedule: Schedule,
        clock: Clock,
        access: RequestAccess,
        case_url_template: str | None = None,
    ) -> None:
        self._case_url_template = case_url_template
        self._store = store
        self._settings = settings
        self._schedule = schedule
        self._clock = clock
        self._access = access

    async def _open_region(self, request: Request) -> tuple[str | None, Reply]:
        """For the views of open handoffs: the region named after the command, if any; or
        what to tell the user when the word is not a region or the open handoffs not theirs
        to see."""
        region = request.args[0].upper() if request.args else None
        if region is not None and region not in self._schedule.travel_order:
            return None, [messages.unknown_region(request.args[0], self._schedule.travel_order)]
        refusal = await self._access.see_open(request)
        return region, [refusal] if refusal is not None else []

    async def status(self, request: Request) -> Reply:
        number = case_number_from("".join(request.args)) if request.args else None
        if number is None:
            return [messages.status_usage()]
        # All of the case's handoffs in one read: the journey needs them too.
        handoffs = await self._store.for_case(number)
        handoff = latest_of(handoffs)
        refusal = await self._access.read(request, handoff, case=number)
        if refusal is not None:
            return [refusal]
        if handoff is None:
            return [messages.no_handoff_for(number)]
        history = await self._store.history(handoff.id)
        viewer = self._access.viewer(request, handoff)
        journey = await self._journey(handoffs, history)
        card = handoff_card(
            handoff,
            history=history,
            viewer=viewer,
            journey=journey,
            now=self._clock.now(),
            case_url_template=self._case_url_template,
        )
        return [Card(card)]

    async def _journey(self, handoffs: list[Handoff], history: list[AuditEvent]) -> Journey:
        """The case's hops. An accepted handoff's state_since is its accept, so only records
        written before that was kept need their own history read for the accept's time."""
        events = list(history)
        known = {event.handoff_id for event in history}
        for other in handoffs:
            if (
                other.state is HandoffState.ACCEPTED
                and other.state_since is None
                and other.id not in known
            ):
                events += await self._store.history(other.id)
        return case_journey(handoffs, events, self._clock.now())

    async def list_open(self, request: Request) -> Reply:
        region, refused = await self._open_region(request)
        if refused:
            return refused
        handoffs = await self._store.list_open(region, limit=LIST_LIMIT)
        title = (
            _("Open handoffs to {region}").format(region=region) if region else _("Open handoffs")
        )
        empty = _("None: every handoff has an owner.")
        return [Card(handoff_list_card(title, handoffs, empty, now=self._clock.now()))]

    async def mine(self, request: Request) -> Reply:
        refusal = await self._access.show_own(request)
        if refusal is not None:
            return [refusal]
        # Only the person's own: each is theirs to see (the read policy's people of a handoff).
        handoffs = await self._store.involving(request.actor.id, limit=LIST_LIMIT)
        card = handoff_list_card(
            _("Handoffs you requested or took"),
            handoffs,
            _("None yet: type **handoff** to start one."),
            now=self._clock.now(),
        )
        return [Card(card)]

    async def agenda(self, request: Request) -> Reply:
        region, refused = await self._open_region(request)
        if refused:
            return refused
        now = self._clock.now()
        if region is None:
            on_shift = self._schedule.regions_on_shift(now)
            region = on_shift[0] if on_shift else self._schedule.travel_order[0]
        meeting = self._schedule.next_meeting(region, now)
        if meeting is None:
            return [messages.no_meeting(region)]
        handoffs = agenda(await self._store.list_open(None, limit=200), meeting)
        return [Card(agenda_card(meeting, handoffs))]

    async def shifts(self, request: Request) -> Reply:
        """Who is on now, and each region's next shift and meeting, in the reader's zone."""
        zone = await reader_zone(self._settings, request)
        now = self._clock.now()
        heading = _("**Shifts and handoff meetings** (times in {zone})").format(zone=zone)
        lines = [heading, ""]
        lines += [_shift_line(row, zone) for row in overview(self._schedule, now)]
        return ["\n".join(lines)]


def _shift_line(row: RegionNow, zone: str) -> str:
    """A region's line of `shifts`: on shift or when next, and its next handoff meeting."""
    meeting = row.next_meeting
    fields = {
        "region": row.region,
        "end": formats.when(row.current.end, zone) if row.current else "",
        "start": formats.when(row.next_start.start, zone) if row.next_start else "",
        # Region codes, as the configuration names them.
        "regions": ", ".join(meeting.meeting.to_regions) if meeting else "",
        "meeting": formats.when(meeting.at, zone) if meeting else "",
    }
    if row.current is not None:
        if meeting:
            # Translators: {regions} are the regions the meeting hands over to (region codes
            # such as "US, APAC"); {end}, {start} and {meeting} are dates with times.
            text = _("- **{region}**: on shift until {end}; next meeting → {regions} {meeting}")
        else:
            text = _("- **{region}**: on shift until {end}")
    elif row.next_start is not None:
        if meeting:
            text = _("- **{region}**: off; next shift {start}; next meeting → {regions} {meeting}")
        else:
            text = _("- **{region}**: off; next shift {start}")
    elif meeting:
        text = _("- **{region}**: no shift configured; next meeting → {regions} {meeting}")
    else:
        text = _("- **{region}**: no shift configured")
    return text.format(**fields)
