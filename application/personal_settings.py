"""`settings [region R | zone Z | hours HH:MM-HH:MM | language L | mute | unmute]`: what the bot
knows of a person, changed and audited (R-STAY reminders come before the end of their hours);
and, for the team leads, `settings digest on|off`: the weekly digest to the Case Transfer
channel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from cards.elements import safe
from handoff.models import AuditEntry, AuditKind, Person
from handoff.ports import Clock, SettingsStore, UserSettingsStore
from handoff.schedule import Schedule, check_zone
from handoff.user_settings import UserSettings, changes, parse_hours
from i18n import _, formats, speaking
from i18n.languages import ENGLISH, LANGUAGES, by_name, choose, from_tag

from . import messages
from .outbox_steps.digest import DIGEST_SETTING, OFF, digest_on
from .request import Reply, Request

# `settings language auto`: back to the Teams client's language.
_FOLLOW_CLIENT = ("auto", "default")


def only_leads_digest() -> str:
    return _(
        "Only the team leads in the bot's configuration can turn the weekly digest on or off; "
        "ask one of them."
    )


def digest_usage() -> str:
    return _("Write **settings digest off** or **settings digest on**.")


def language_usage() -> str:
    return _(
        "Write **settings language** and a language, e.g. **settings language Deutsch** or "
        "**settings language pt-BR**; **settings language auto** follows your Teams client "
        "again."
    )


def languages_spoken() -> str:
    names = formats.listing([language.native_name for language in LANGUAGES.values()])
    return _("I speak {languages}.").format(languages=names)


def unknown_language(wanted: str) -> str:
    said = _("I don't know the language “{wanted}”.").format(wanted=safe(wanted[:40]))
    return f"{said} {languages_spoken()} {language_usage()}"


def language_of(words: Sequence[str]) -> str | None:
    """Our language for what a person wrote after `settings language`: a code, a tag or a name
    (by_name), or a name without its parenthesis (`Chinese`, `Português`) when only one
    language has it."""
    wanted = " ".join(words).strip()
    found = by_name(wanted)
    if found is not None or not wanted:
        return found
    short = [
        language.code
        for language in LANGUAGES.values()
        if wanted.casefold()
        in (
            language.english_name.split(" (")[0].casefold(),
            language.native_name.split(" (")[0].casefold(),
        )
    ]
    return short[0] if len(short) == 1 else None


def language_shown(settings: UserSettings, client_locale: str | None) -> str:
    """The language line of the settings summary: the person's own, else their client's."""
    if settings.language in LANGUAGES:
        name = LANGUAGES[settings.language].native_name
        return _("Language: {language}.").format(language=name)
    from_client = from_tag(client_locale)
    if from_client is not None:
        name = LANGUAGES[from_client].native_name
        return _("Language: from Teams ({language}).").format(language=name)
    return _("Language: {language} (the default).").format(language=ENGLISH.native_name)


def language_changed(chosen: str | None, client_locale: str | None) -> str:
    """The confirmation, said in the language now chosen."""
    if chosen in LANGUAGES:
        name = LANGUAGES[chosen].native_name
        return _("From now on I write to you in {language}.").format(language=name)
    from_client = from_tag(client_locale)
    if from_client is not None:
        name = LANGUAGES[from_client].native_name
        return _(
            "From now on I write to you in the language of your Teams client, {language}."
        ).format(language=name)
    return _(
        "From now on I write to you in the language of your Teams client when I speak it, "
        "else in {language}."
    ).format(language=ENGLISH.native_name)


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
        first = [w.lower() for w in args[:1]]
        if first == ["digest"]:
            return [await self._digest(request)]
        stored = await self._store.user_settings(actor.id)
        current = stored or UserSettings(person=actor)
        if first == ["language"]:
            return [await self._language(request, stored, current)]
        words = [w.lower() for w in args]
        try:
            change = self._change(words, args, current, request.client_zone)
        except ValueError as problem:
            return [messages.settings_problem(str(problem))]
        updated = await self._save(request, stored, current, change)
        return [await self._summary(updated, request)]

    async def _save(
        self,
        request: Request,
        stored: UserSettings | None,
        current: UserSettings,
        change: dict[str, object],
    ) -> UserSettings:
        """The settings with ``change`` made, stored and audited when anything changed."""
        actor = request.actor
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
        return updated

    async def _summary(self, settings: UserSettings, request: Request) -> str:
        shown = messages.settings_shown(settings, request.client_zone)
        language = language_shown(settings, request.locale)
        return f"{shown} {language} {await self._digest_state()}"

    async def _language(
        self, request: Request, stored: UserSettings | None, current: UserSettings
    ) -> str:
        """`settings language <name>` or `settings language auto`: the language the bot
        writes to the person in; the reply is already in it."""
        words = request.args[1:]
        wanted = " ".join(words).strip()
        if not wanted:
            shown = language_shown(current, request.locale)
            return f"{shown} {languages_spoken()} {language_usage()}"
        follow_client = wanted.lower() in _FOLLOW_CLIENT
        code = None if follow_client else language_of(words)
        if code is None and not follow_client:
            return unknown_language(wanted)
        updated = await self._save(request, stored, current, {"language": code})
        with speaking(choose(code, request.locale)):
            confirmed = language_changed(code, request.locale)
            return f"{confirmed} {await self._summary(updated, request)}"

    async def _digest_state(self) -> str:
        if await digest_on(self._store):
            return _("Weekly digest to the Case Transfer channel (for the whole team): on.")
        return _("Weekly digest to the Case Transfer channel (for the whole team): off.")

    async def _digest(self, request: Request) -> str:
        """`settings digest on|off`: a team setting, so the leads' alone, and audited."""
        words = [w.lower() for w in request.args[1:]]
        if words not in (["on"], ["off"]):
            return f"{digest_usage()} {await self._digest_state()}"
        if not self._is_lead(request.actor):
            return only_leads_digest()
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
                    # Translators: {regions} are region codes from the configuration, e.g.
                    # "EMEA, US, APAC, IST".
                    _("“{region}” is not a region; use one of {regions}").format(
                        region=args[1][:20], regions=", ".join(self._schedule.travel_order)
                    )
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
                _(
                    "I know settings region, zone, hours, language, mute and unmute (and, for "
                    "team leads, digest on and digest off)"
                )
            )
        return {}
