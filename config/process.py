"""The process data file (regions, shifts, meetings, contacts), loaded and validated."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from config.settings import Settings
from handoff.insights import DEFAULT_TARGET_MINUTES
from handoff.models import CASE_PLACEHOLDER, Person, RegionCode, Severity
from handoff.notes.commitment import DEFAULT_NOTICE
from handoff.schedule import HandoffMeeting, Schedule, Shift, check_zone
from i18n.languages import ENGLISH, LANGUAGES, from_tag

TimeZoneName = Annotated[str, AfterValidator(check_zone)]
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# A reminder more than a day ahead of the customer's next contact is no reminder.
MAX_NOTICE_MINUTES = 24 * 60


class ConfigError(Exception):
    """The data file is missing or wrong; the message gives the file and the path inside it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionEntry(_Strict):
    code: RegionCode
    name: str = ""


def _clock_time(value: object) -> object:
    # YAML reads an unquoted 08:00 as a sexagesimal integer (480); insist on quoted text.
    if isinstance(value, int):
        raise ValueError('write times as quoted "HH:MM" text, e.g. "08:30"')
    return value


class ShiftEntry(_Strict):
    region: RegionCode
    timezone: TimeZoneName
    start: dt.time
    end: dt.time
    workdays: tuple[str, ...] = WEEKDAYS[:5]

    _times = field_validator("start", "end", mode="before")(_clock_time)

    @field_validator("workdays")
    @classmethod
    def _weekday_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [day for day in value if day not in WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown weekday {unknown[0]!r}; use {', '.join(WEEKDAYS)}")
        return value

    def to_domain(self) -> Shift:
        return Shift(
            region=self.region,
            timezone=self.timezone,
            start=self.start,
            end=self.end,
            workdays=frozenset(WEEKDAYS.index(day) for day in self.workdays),
        )


class MeetingEntry(_Strict):
    from_region: RegionCode
    to_regions: tuple[RegionCode, ...] = Field(min_length=1)
    time: dt.time
    timezone: TimeZoneName
    link: str = ""

    _time = field_validator("time", mode="before")(_clock_time)

    def to_domain(self) -> HandoffMeeting:
        return HandoffMeeting(
            from_region=self.from_region,
            to_regions=self.to_regions,
            time=self.time,
            timezone=self.timezone,
        )


class Contact(_Strict):
    name: Annotated[str, Field(min_length=1)]
    email: str = ""
    teams_id: str = ""


class QueueEntry(_Strict):
    address: str
    subject_prefix: Annotated[str, Field(min_length=1)]


class Reminders(_Strict):
    """R-STAY: while a critical handoff has no owner, remind its requester every
    `stay_interval_minutes`, and tell the regional SMEs after `tell_smes_after_minutes`.
    R-CUSTOMER: whoever has the case hears of the customer's next contact
    `commitment_notice_minutes` before it."""

    stay_interval_minutes: int = Field(60, ge=5, le=24 * 60)
    tell_smes_after_minutes: int = Field(240, ge=5, le=7 * 24 * 60)
    commitment_notice_minutes: int = int(DEFAULT_NOTICE.total_seconds() // 60)

    @field_validator("commitment_notice_minutes")
    @classmethod
    def _notice_in_range(cls, value: int) -> int:
        if not 1 <= value <= MAX_NOTICE_MINUTES:
            raise ValueError(
                f"{value} minutes is out of range: give how many minutes before a customer's "
                f"next contact its engineer is reminded, from 1 to {MAX_NOTICE_MINUTES} (a day)"
            )
        return value

    @property
    def commitment_notice(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.commitment_notice_minutes)


TargetMinutes = Annotated[int, Field(ge=1, le=7 * 24 * 60)]


class InsightsEntry(_Strict):
    """`insights`: how soon a handoff should be accepted, per severity, in minutes; a severity
    left out keeps its default (A 30, B 120, C 480); and when the weekly digest is posted."""

    targets_minutes: dict[Severity, TargetMinutes] = Field(
        default_factory=lambda: dict(DEFAULT_TARGET_MINUTES)
    )
    # The weekly digest goes to the Case Transfer channel on Mondays at this local time, in
    # each region's shift zone.
    digest_time: dt.time = dt.time(8, 0)

    _digest_time = field_validator("digest_time", mode="before")(_clock_time)

    def targets(self) -> dict[Severity, int]:
        return {**DEFAULT_TARGET_MINUTES, **self.targets_minutes}


def _group_object_id(value: str) -> str:
    if not _GUID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an Entra group's object id; give the group's Object ID "
            "(a GUID such as 0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9, shown on the group's "
            "Overview in the Microsoft Entra admin center), not its name or e-mail"
        )
    # Graph answers ids in lower case; one spelling keeps comparisons and the cache simple.
    return value.lower()


GroupObjectId = Annotated[str, AfterValidator(_group_object_id)]


class CaseTransferChannel(_Strict):
    team_id: str = ""
    channel_id: str = ""
    # Who may act on transfer cards: members of the Case Transfer team (team_id, else the team
    # of the bound channel), of these teams, by Teams team id (19:...@thread.tacv2), and of
    # these Microsoft Entra groups (nested membership counts), asked of Microsoft Graph.
    allowed_teams: tuple[str, ...] = ()
    allowed_groups: tuple[GroupObjectId, ...] = ()
    # What the bot posts to the channel and to the cases' group chats is read by the whole
    # team, so it is in the team's language; a personal chat is in its reader's own.
    language: str = ENGLISH.code

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value in LANGUAGES:
            return value
        meant = from_tag(value)
        hint = f" (for {value!r} write {meant!r})" if meant else ""
        raise ValueError(
            f"{value!r} is not a language the bot speaks{hint}; write one of "
            + ", ".join(LANGUAGES)
        )

    @field_validator("allowed_teams")
    @classmethod
    def _team_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for team in value:
            if not (team.startswith("19:") and "@thread." in team):
                raise ValueError(
                    f"{team!r} is not a Teams team id; give the id of the team's General "
                    "channel, 19:…@thread.tacv2 (in its link, after /channel/, URL-decoded)"
                )
        return value


def _case_url_template(value: str) -> str:
    example = "e.g. https://support.example.com/cases/{case}"
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(
            f"{value!r} is not a web address: give the address of a case's page in your case "
            f"system, starting with https://, with {CASE_PLACEHOLDER} where the case number goes "
            f"({example})"
        )
    if value.count(CASE_PLACEHOLDER) != 1:
        raise ValueError(
            f"{value!r} must have {CASE_PLACEHOLDER} exactly once, where the case number goes "
            f"({example})"
        )
    if CASE_PLACEHOLDER in parts.netloc:
        raise ValueError(
            f"{value!r}: put {CASE_PLACEHOLDER} in the path or the query, not the host"
        )
    rest = value.replace(CASE_PLACEHOLDER, "")
    if "{" in rest or "}" in rest:
        raise ValueError(
            f"{value!r}: the only placeholder is {CASE_PLACEHOLDER} ({example}); remove the "
            "other braces"
        )
    if any(c.isspace() for c in value):
        raise ValueError(f"{value!r}: a web address has no spaces; write them as %20")
    return value


class CaseSystem(_Strict):
    """Where each case has its page: every case card gets an "Open case" button to it, and a
    pasted link of that form unfurls into the case's card (the app package registers its
    host). Unset: no button, no unfurling."""

    url_template: Annotated[str, AfterValidator(_case_url_template)] | None = None

    @property
    def link_domain(self) -> str:
        """The host the app package registers for link unfurling ("" when unset)."""
        return (urlsplit(self.url_template).hostname or "") if self.url_template else ""


class ProcessConfig(_Strict):
    regions: tuple[RegionEntry, ...] = Field(min_length=1)
    shifts: tuple[ShiftEntry, ...] = ()
    meetings: tuple[MeetingEntry, ...] = ()
    smes: dict[RegionCode, tuple[Contact, ...]] = Field(default_factory=dict)
    leads: tuple[Contact, ...] = ()
    queue: QueueEntry
    phone_numbers: dict[RegionCode, str] = Field(default_factory=dict)
    case_transfer: CaseTransferChannel = CaseTransferChannel()
    reminders: Reminders = Reminders()
    insights: InsightsEntry = InsightsEntry()
    case_system: CaseSystem = CaseSystem()

    @property
    def region_codes(self) -> tuple[str, ...]:
        return tuple(region.code for region in self.regions)

    @model_validator(mode="after")
    def _regions_known(self) -> ProcessConfig:
        known = set(self.region_codes)
        if len(known) != len(self.regions):
            raise ValueError("regions: a region code is listed twice")
        used: list[tuple[str, str]] = [
            (f"shifts[{i}].region", s.region) for i, s in enumerate(self.shifts)
        ]
        for i, meeting in enumerate(self.meetings):
            used.append((f"meetings[{i}].from_region", meeting.from_region))
            used.extend((f"meetings[{i}].to_regions", code) for code in meeting.to_regions)
        used.extend((f"smes.{code}", code) for code in self.smes)
        used.extend((f"phone_numbers.{code}", code) for code in self.phone_numbers)
        for where, code in used:
            if code not in known:
                raise ValueError(
                    f"{where}: region {code!r} is not in regions ({', '.join(self.region_codes)})"
                )
        # The schedule needs each region's hours to say when a case can be picked up; without
        # them a handoff to that region would fail at review time rather than here.
        shifts_of = [shift.region for shift in self.shifts]
        for code in self.region_codes:
            count = shifts_of.count(code)
            if count == 0:
                raise ValueError(f"shifts: region {code!r} has no shift; add one")
            if count > 1:
                raise ValueError(f"shifts: region {code!r} has {count} shifts; keep one")
        return self

    def sme_people(self) -> dict[str, tuple[Person, ...]]:
        """SMEs the bot can message: those with a Teams (AAD object) id."""
        return {
            region: tuple(
                Person(id=c.teams_id, name=c.name, aad_object_id=c.teams_id)
                for c in contacts
                if c.teams_id
            )
            for region, contacts in self.smes.items()
        }

    def name_for_address(self, address: str) -> str:
        """The name of the SME or lead with this e-mail address (any letter case), or ""."""
        wanted = address.strip().casefold()
        people = (*self.leads, *(c for contacts in self.smes.values() for c in contacts))
        return next((p.name for p in people if wanted and p.email.casefold() == wanted), "")

    def lead_ids(self) -> tuple[str, ...]:
        return tuple(lead.teams_id for lead in self.leads if lead.teams_id)

    def lead_people(self) -> tuple[Person, ...]:
        """Leads the bot can message: those with a Teams (AAD object) id."""
        return tuple(
            Person(id=lead.teams_id, name=lead.name, aad_object_id=lead.teams_id)
            for lead in self.leads
            if lead.teams_id
        )

    def schedule(self) -> Schedule:
        return Schedule(
            travel_order=self.region_codes,
            shifts=[shift.to_domain() for shift in self.shifts],
            meetings=[meeting.to_domain() for meeting in self.meetings],
        )


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# libyaml's parser where PyYAML was built with it (its wheels are): the same safe loader's
# reading in ~1 ms, where the pure-Python parser took ~20 ms of start-up.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_process_config(path: Path) -> ProcessConfig:
    """Reads and checks the file; ConfigError says where in it a value is wrong."""
    try:
        raw: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except OSError as error:
        raise ConfigError(f"HANDOFF_CONFIG: cannot read {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (regions, shifts, …)")
    try:
        config = ProcessConfig.model_validate(raw)
        config.schedule()
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = _location(item["loc"])
            message = str(item["msg"]).removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise ConfigError(f"{path}:\n  " + "\n  ".join(problems)) from None
    except ValueError as error:
        raise ConfigError(f"{path}: {error}") from None
    return config


def check_groups_have_graph(settings: Settings, process: ProcessConfig) -> None:
    """Group membership is asked of Microsoft Graph: listing groups without giving the bot
    Graph would refuse every group member's click, which an admin would only hear of from
    the engineers; so it stops start-up instead, naming what to set."""
    if process.case_transfer.allowed_groups and not settings.graph_configured:
        raise ConfigError(
            f"{settings.handoff_config}: case_transfer.allowed_groups lists Microsoft Entra "
            "groups, whose membership the bot asks of Microsoft Graph, but Graph is not "
            "configured: set MicrosoftAppTenantId and MicrosoftAppId/MicrosoftAppPassword "
            "(or GRAPH_CLIENT_ID/GRAPH_CLIENT_SECRET, or MicrosoftAppType=UserAssignedMSI) and "
            "grant the app User.Read.All and GroupMember.Read.All, or empty allowed_groups"
        )
