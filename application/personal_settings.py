"""`settings [region R | zone Z | hours HH:MM-HH:MM | mute | unmute]`: what the bot knows of a
person, changed and audited (R-STAY reminders come before the end of their hours)."""

from __future__ import annotations

from handoff.models import AuditEntry, AuditKind
from handoff.ports import Clock, UserSettingsStore
from handoff.schedule import Schedule, check_zone
from handoff.user_settings import UserSettings, changes, parse_hours

from . import messages
from .request import Reply, Request


class PersonalSettings:
    def __init__(self, store: UserSettingsStore, schedule: Schedule, clock: Clock) -> None:
        self._store = store
        self._schedule = schedule
        self._clock = clock

    async def settings(self, request: Request) -> Reply:
        actor, args = request.actor, request.args
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
        return [messages.settings_shown(updated, request.client_zone)]

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
            raise ValueError("I know settings region, zone, hours, mute and unmute")
        return {}
