"""`settings [region R | zone Z | hours HH:MM-HH:MM | mute | unmute]`: what the bot knows of a
person, changed and audited (R-STAY reminders come before the end of their hours); and, for the
team leads, `settings digest on|off`: the weekly digest to the Case Transfer channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from handoff.models import AuditEntry, AuditKind, Person
from handoff.ports import Clock, SettingsStore, UserSettingsStore
from handoff.schedule import Schedule, check_zone
from handoff.user_settings import UserSettings, changes, parse_hours

from . import messages
from .outbox_steps.digest import DIGEST_SETTING, OFF, digest_on
from .request import Reply, Request

ONLY_LEADS_DIGEST = (
    "Only the team leads in the bot's configuration can turn the weekly digest on or off; "
    "ask one of them."
)
DIGEST_USAGE = "Write **settings digest off** or **settings digest on**."


class Store(UserSettingsStore, SettingsStore, Protocol):
    pass


class PersonalSettings:
    def __init__(
        self, store: Store, schedule: Schedule, clock: Clock, is_lead: Callable[[Person], bool]
    ) -> None:
        self._store = store
        self._schedule = schedule
        self._clock = clock
        self._is_lead = is_lead

    async def settings(self, request: Request) -> Reply:
        actor, args = request.actor, request.args
        if [w.lower() for w in args[:1]] == ["digest"]:
            return [await self._digest(request)]
        stored = await self._store.user_settings(actor.id)
        current = stored or UserSettings(person=actor)
        words = [w.lower() for w in args]
        try:
            change = self._change(words, args, current, request.client_zone)
        except ValueError as problem:
            return [messages.settings_problem(str(problem))]
        updated = current.model_copy(update={**change, "person": actor})
        changed = changes(stored, updated) if change else {}
        if changed:
            audit = AuditEntry(
                kind=AuditKind.SETTINGS_CHANGED,
                actor=actor,
                at=self._clock.now(),
                subject=actor.id,
                data=changed,
            )
            await self._store.save_user_settings(updated, audit)
        shown = messages.settings_shown(updated, request.client_zone)
        return [f"{shown} {await self._digest_state()}"]

    async def _digest_state(self) -> str:
        state = "on" if await digest_on(self._store) else "off"
        return f"Weekly digest to the Case Transfer channel (for the whole team): {state}."

    async def _digest(self, request: Request) -> str:
        """`settings digest on|off`: a team setting, so the leads' alone, and audited."""
        words = [w.lower() for w in request.args[1:]]
        if words not in (["on"], ["off"]):
            return f"{DIGEST_USAGE} {await self._digest_state()}"
        if not self._is_lead(request.actor):
            return ONLY_LEADS_DIGEST
        was = "on" if await digest_on(self._store) else OFF
        if words[0] != was:
            audit = AuditEntry(
                kind=AuditKind.SETTINGS_CHANGED,
                actor=request.actor,
                at=self._clock.now(),
                subject=DIGEST_SETTING,
                data={DIGEST_SETTING: {"from": was, "to": words[0]}},
            )
            await self._store.set_setting(DIGEST_SETTING, words[0], audit)
        return await self._digest_state()

    def _change(
        self,
        words: list[str],
        args: tuple[str, ...],
        current: UserSettings,
        client_zone: str | None,
    ) -> dict[str, object]:
        if words[:1] == ["mute"]:
            return {"muted": True}
        if words[:1] == ["unmute"]:
            return {"muted": False}
        if words[:1] == ["region"] and len(args) == 2:
            region = args[1].upper()
            if region not in self._schedule.travel_order:
                raise ValueError(
                    f"“{args[1][:20]}” is not a region; use one of "
                    f"{', '.join(self._schedule.travel_order)}"
                )
            return {"region": region}
        if words[:1] == ["zone"] and len(args) == 2:
            return {"timezone": check_zone(args[1])}
        if words[:1] == ["hours"] and len(args) >= 2:
            start, end = parse_hours("".join(args[1:]))
            # Hours mean nothing without a zone: the client's, unless one was saved.
            return {"start": start, "end": end, "timezone": current.timezone or client_zone}
        if words:
            raise ValueError(
                "I know settings region, zone, hours, mute and unmute (and, for team leads, "
                "digest on and digest off)"
            )
        return {}
