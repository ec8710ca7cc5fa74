"""A known week of handoffs for the insights tests, made through the domain service on a fake
clock; its figures, worked out by hand, are checked in tests/storage/insights/test_facts.py.

The week ends on Thursday 2026-04-02 12:00 UTC; Europe/London moved to summer time on Sunday
2026-03-29 at 01:00 UTC, inside it. Times are UTC; minutes to accept in brackets.

  case     route          sev  24x7  requested          what happened
  1000001  EMEA → US      A    yes   Sat 03-28 23:30    accepted (20)
  1000002  EMEA → US      A    yes   Sun 03-29 00:30    more info asked and given, accepted (50)
  1000003  US → APAC      B    no    Sun 03-29 23:30    back to the queue, accepted (180)
  1000004  EMEA → US      B    yes   Mon 03-30 08:00    accepted (10)
  1000004  US → APAC      B    yes   Mon 03-30 16:00    accepted (40)
  1000004  APAC → EMEA    B    yes   Tue 03-31 00:00    accepted (100): round the globe
  1000005  APAC → EMEA    A    yes   Wed 04-01 10:00    open, no owner (26 hours at the end)
  1000006  IST → EMEA     C    no    Wed 04-01 09:00    notes refused twice before (08:40,
                                                       08:50), accepted (600)
  1000007  EMEA → US      B    no    Fri 03-20 09:00    accepted (15): before the week
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.models import AuditEntry, AuditKind, Handoff, Person, Severity
from handoff.service import HandoffService
from handoff.state_machine import (
    Accept,
    Command,
    ProvideInfo,
    RequestMoreInfo,
    SendBackToQueue,
)
from storage.sql_store import SqlStore

from . import records
from .old_cases import MovableClock

END = datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
REQUESTER = Person(id="29:ana", name="Ana Lopez", aad_object_id="aad-ana")
TAKER = Person(id="29:bo", name="Bo Receiver", aad_object_id="aad-bo")
REFUSED_FIXES = (["summary"], ["next_steps_us", "summary"])


def at(day: int, hour: int, minute: int = 0, month: int = 4) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


class History:
    def __init__(self, store: SqlStore, clock: MovableClock) -> None:
        self.store = store
        self.clock = clock
        self.service = HandoffService(store, clock)

    def _to(self, when: datetime) -> None:
        assert when >= self.clock.now(), f"the history goes forward: {when}"
        self.clock.advance(when - self.clock.now())

    async def request(
        self,
        number: str,
        origin: str,
        target: str,
        when: datetime,
        severity: Severity,
        is_24x7: bool,
    ) -> Handoff:
        self._to(when)
        answers = records.answers(number, origin, target, severity=severity, is_24x7=is_24x7)
        return await self.service.request(answers, records.PLACEHOLDER_OUTPUTS, REQUESTER)

    async def act(self, handoff: Handoff, command: Command, minutes: int) -> Handoff:
        self._to(handoff.created_at + timedelta(minutes=minutes))
        outcome = await self.service.act(handoff.id, command, handoff.version)
        assert outcome.changed, outcome.notice
        return outcome.handoff

    async def accepted(
        self,
        number: str,
        route: tuple[str, str],
        when: datetime,
        minutes: int,
        severity: Severity = Severity.B,
        is_24x7: bool = True,
    ) -> Handoff:
        handoff = await self.request(number, *route, when, severity, is_24x7)
        return await self.act(handoff, Accept(actor=TAKER), minutes)

    async def refused(self, number: str, when: datetime, fixes: list[str]) -> None:
        self._to(when)
        await self.store.add_audit_entry(
            AuditEntry(
                kind=AuditKind.NOTES_REFUSED,
                actor=REQUESTER,
                at=when,
                subject=number,
                data={"fixes": fixes},
            )
        )


async def make_history(store: SqlStore, clock: MovableClock) -> None:
    """The week above, in the order it happened; the clock ends at END."""
    h = History(store, clock)
    a = Severity.A
    await h.accepted("1000007", ("EMEA", "US"), at(20, 9, month=3), 15, is_24x7=False)
    await h.accepted("1000001", ("EMEA", "US"), at(28, 23, 30, month=3), 20, a)
    second = await h.request("1000002", "EMEA", "US", at(29, 0, 30, month=3), a, True)
    second = await h.act(second, RequestMoreInfo(actor=TAKER, question="Which logs?"), 10)
    second = await h.act(second, ProvideInfo(actor=REQUESTER, answer="The gateway's."), 25)
    await h.act(second, Accept(actor=TAKER), 50)
    third = await h.request("1000003", "US", "APAC", at(29, 23, 30, month=3), Severity.B, False)
    third = await h.act(third, SendBackToQueue(actor=REQUESTER, reason="Wrong queue"), 30)
    await h.act(third, Accept(actor=TAKER), 180)
    await h.accepted("1000004", ("EMEA", "US"), at(30, 8, month=3), 10)
    await h.accepted("1000004", ("US", "APAC"), at(30, 16, month=3), 40)
    await h.accepted("1000004", ("APAC", "EMEA"), at(31, 0, month=3), 100)
    for when, fixes in zip((at(1, 8, 40), at(1, 8, 50)), REFUSED_FIXES, strict=True):
        await h.refused("1000006", when, fixes)
    sixth = await h.request("1000006", "IST", "EMEA", at(1, 9), Severity.C, False)
    waiting = await h.request("1000005", "APAC", "EMEA", at(1, 10), a, True)
    assert waiting.owner is None
    await h.act(sixth, Accept(actor=TAKER), 600)
    h._to(END)
