"""R-OOF: `oof` asks what kind of absence and when; the critical cases get a
pre-filled warm handoff to the named teammate, the others go on the Team Leader's list, the
automatic-reply text comes back, and a reminder to take the cases back waits for the return."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from cards.oof_card import oof_card, ta_list_card
from handoff import effects
from handoff.errors import ConcurrencyConflict, DomainError, StoreUnavailable
from handoff.flowchart import within_region_step
from handoff.models import Handoff, Person
from handoff.oof import OofKind, plan
from handoff.ports import Clock, DuplicateOpenHandoff
from handoff.request import HandoffAnswers, Queue, compose_outputs
from handoff.service import HandoffService
from handoff.state_machine import state_in_words
from i18n import _

from . import messages
from .outbox_steps.follow_ups import Store, owned_open_cases
from .reader import reader_zone
from .request import Card, Reply, Request

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# When the "take your cases back" reminder arrives on the day of return, in the reader's zone.
TAKE_BACK_AT = time(9, 0)


class OutOfOffice:
    def __init__(
        self,
        store: Store,
        service: HandoffService,
        clock: Clock,
        *,
        queue: Queue,
        leads: Sequence[Person],
        phone_numbers: Mapping[str, str],
    ) -> None:
        self._store = store
        self._service = service
        self._clock = clock
        self._queue = queue
        self._leads = tuple(leads)
        self._phones = dict(phone_numbers)

    async def oof(self, _request: Request) -> Reply:
        return [Card(oof_card({}, []))]

    async def submitted(self, request: Request, value: dict[str, Any]) -> Reply:
        problems: list[str] = []
        try:
            kind = OofKind(str(value.get("kind") or ""))
        except ValueError:
            problems.append(_("What kind of absence?: choose one."))
            kind = OofKind.PLANNED_SHORT
        try:
            first_day = date.fromisoformat(str(value.get("first_day") or ""))
            back_on = date.fromisoformat(str(value.get("back_on") or ""))
            if back_on <= first_day:
                problems.append(_("Back on: the day you are back comes after the first day away."))
            elif back_on <= self._clock.now().date():
                problems.append(_("Back on: pick a day still to come."))
        except ValueError:
            problems.append(_("First day away and Back on: pick both dates."))
            first_day = back_on = date.min
        teammate = str(value.get("teammate") or "").strip()
        actor = request.actor
        # Only the sender's own cases, whatever the form says: a stranger owns none, so their
        # time away hands off nothing and sends no Team Leader a list.
        owned = await owned_open_cases(self._store, actor.id)
        needs_teammate = any(h.case.is_critical for h in owned)
        if needs_teammate and not _EMAIL.fullmatch(teammate):
            problems.append(
                _(
                    "Teammate: your critical cases need a warm handoff; give the e-mail of the "
                    "teammate who takes them."
                )
            )
        if problems:
            return [Card(oof_card(value, problems))]
        outcome = plan(kind, owned, first_day, back_on, self._phones)
        # Each case on its own: one that cannot be handed off must not cost the others, nor
        # the Team Leader's list and the take-back reminder below.
        handed: list[str] = []
        failed: list[tuple[str, str]] = []
        for handoff in outcome.hand_off:
            problem = await self._hand_off(handoff, kind, teammate, actor)
            if problem is None:
                handed.append(handoff.case.number)
            else:
                failed.append((handoff.case.number, problem))
        if failed:
            log.warning(
                "oof: some cases not handed off",
                extra={"user": actor.id, "handed": handed, "failed": dict(failed)},
            )
        at = self._clock.now()
        outbox = []
        if outcome.ta_list:
            card = ta_list_card(actor.name or actor.id, kind, outcome.ta_list)
            topic = f"oof:{actor.id}:{first_day}"
            keys = [f"tell:{topic}:{lead.id}" for lead in self._leads]
            undelivered = effects.if_undelivered(
                actor,
                # Translators: a message that could not be delivered, in the line "{about},
                # for {name}: {why}" of the report to the person going away.
                _("your list of cases for your Team Leader"),
                # Translators: in that report, "Some of my messages about {subject} did not
                # reach the people they were for".
                _("your time away"),
                topic,
                keys,
            )
            for lead in self._leads:
                outbox.append(
                    effects.tell(
                        lead, messages.oof_ta_intro(actor.name), topic, at, card, undelivered
                    )
                )
        if outcome.take_back:
            zone = ZoneInfo(await reader_zone(self._store, request))
            when = datetime.combine(back_on, TAKE_BACK_AT, zone)
            numbers = ", ".join(h.case.number for h in owned)
            outbox.append(
                effects.tell(
                    actor, messages.take_back(numbers), f"oofback:{actor.id}:{back_on}", when
                )
            )
        for message in outbox:
            await self._store.enqueue_message(message)
        return [
            messages.oof_summary(
                kind.label,
                teammate,
                handed,
                failed,
                len(outcome.ta_list),
                bool(self._leads),
                outcome.auto_reply,
                reminded=bool(outcome.take_back),
            )
        ]

    async def _hand_off(
        self, handoff: Handoff, kind: OofKind, teammate: str, actor: Person
    ) -> str | None:
        """A warm handoff request to the teammate, pre-filled from the case's latest one; why
        it could not be made, or None once it is."""
        number = handoff.case.number
        latest = await self._store.latest_for_case(number)
        if latest is None or (latest.id, latest.version) != (handoff.id, handoff.version):
            # Someone acted on the case since the list was read: handing it off now could
            # undo what they did.
            if latest is None:
                return _(
                    "its handoff changed meanwhile (now gone); see **status {number}**"
                ).format(number=number)
            # Translators: why a case was not handed off, after the case number in a list.
            return _("its handoff changed meanwhile (now {state}); see **status {number}**").format(
                state=state_in_words(latest.state), number=number
            )
        region = handoff.target_region
        answers = HandoffAnswers(
            case=handoff.case,
            owner_region=region,
            target_region=region,
            kind_choice="within",
            reason=f"Out of office ({kind.label.lower()}): warm handoff to a teammate",
            notes=handoff.notes,
            target_engineer=teammate,
        )
        step = within_region_step(teammate, handoff.case.is_critical)
        outputs = compose_outputs(answers, step, self._queue)
        try:
            await self._service.request(answers, outputs, actor)
        except DuplicateOpenHandoff:
            return _("it already has an open handoff; see **status {number}**").format(
                number=number
            )
        except ConcurrencyConflict:
            return _("its handoff changed meanwhile; see **status {number}**").format(number=number)
        except DomainError as refused:
            return str(refused)
        except StoreUnavailable:
            log.warning("oof handoff not stored", extra={"case": number}, exc_info=True)
            return _("my database could not store it just now")
        except Exception:
            # Whatever else the store refuses stays with this case: the report still tells
            # the person which cases are handed off and which are not.
            log.exception("oof handoff failed", extra={"case": number})
            return _("I could not store it (the error is in my log for the admins)")
        return None
