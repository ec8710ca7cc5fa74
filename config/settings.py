"""Process settings from the environment, with Bot Framework's own names."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///data/handoff.db"
ANY_TENANT = "*"
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DEFAULT_CONFIG_PATH = Path(__file__).with_name("handoff.yaml")
# Where the public Azure cloud publishes the keys that sign what Teams sends the bot, and
# where the bot gets its own tokens (Bot Framework's constants; settings so that tests and
# sovereign clouds can point elsewhere).
BOT_FRAMEWORK_OPENID_METADATA_URL = (
    "https://login.botframework.com/v1/.well-known/openidconfiguration"
)
MICROSOFT_LOGIN_HOST = "https://login.microsoftonline.com"
# Retention (docs/retention.md): days a closed case, and an audit log entry, are kept; 0 keeps
# them for ever. A hundred years is the most a date can be pushed back safely.
DEFAULT_RETENTION_DAYS = 90
DEFAULT_AUDIT_RETENTION_DAYS = 365
MAX_RETENTION_DAYS = 36500
_DATABASE_URL_FORMS = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "postgresql://user:password@host:5432/dbname (or postgres://…)"
)


class AppType(StrEnum):
    MULTI_TENANT = "MultiTenant"
    SINGLE_TENANT = "SingleTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


class SettingsError(Exception):
    """Start-up settings are wrong; the message names each setting and what to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    app_id: str = Field("", alias="MicrosoftAppId")
    app_password: str = Field("", alias="MicrosoftAppPassword", repr=False)
    # Azure creates single-tenant bots only (multi-tenant ones can no longer be made), so a
    # new registration is single-tenant; MultiTenant stays for registrations made before.
    app_type: AppType = Field(AppType.SINGLE_TENANT, alias="MicrosoftAppType")
    app_tenant_id: str = Field("", alias="MicrosoftAppTenantId")
    database_url: str = Field(DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    handoff_config: Path = Field(DEFAULT_CONFIG_PATH, alias="HANDOFF_CONFIG")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # A line per request served costs every turn and says little the metrics do not count
    # (docs/metrics.md); on for a while to see individual requests.
    access_log: bool = Field(False, alias="ACCESS_LOG")
    port: int = Field(3978, alias="PORT", ge=1, le=65535)
    # With an app id, /metrics is served only here (docs/metrics.md): an internal port that the
    # operator's Prometheus reaches and the internet does not. 9464: Prometheus's usual one.
    metrics_port: int = Field(9464, alias="METRICS_PORT", ge=1, le=65535)
    # Unauthenticated local mode should not listen beyond this machine unless asked to.
    host: str = Field("", alias="HOST")
    # R-LONG group chats go through Microsoft Graph with the bot's own app registration,
    # unless a separate one is given; base URL and authority host are settings so tests and
    # sovereign clouds can point elsewhere.
    graph_client_id: str = Field("", alias="GRAPH_CLIENT_ID")
    graph_client_secret: str = Field("", alias="GRAPH_CLIENT_SECRET", repr=False)
    graph_base_url: str = Field("https://graph.microsoft.com/v1.0", alias="GRAPH_BASE_URL")
    graph_authority_host: str = Field(
        "https://login.microsoftonline.com", alias="GRAPH_AUTHORITY_HOST"
    )
    teams_app_id: str = Field("", alias="TEAMS_APP_ID")
    # Where `insights export` may upload the file Teams' consent card asks for: OneDrive's
    # hosts in the public and government clouds (a host matches itself and its subdomains).
    file_upload_hosts: str = Field(
        "sharepoint.com,sharepoint.us,sharepoint-mil.us,sharepoint.cn", alias="FILE_UPLOAD_HOSTS"
    )
    # Operations (docs/operations.md): how the outbox retries, and how long the
    # database and a whole request may take before the user is told to try again.
    # Besides the leads of the process file, who may run `outbox` (Teams user or AAD ids).
    bot_admins: str = Field("", alias="BOT_ADMINS")
    outbox_max_attempts: int = Field(8, alias="OUTBOX_MAX_ATTEMPTS", ge=1, le=100)
    outbox_backoff_seconds: float = Field(1.0, alias="OUTBOX_BACKOFF_SECONDS", gt=0, le=3600)
    outbox_backoff_cap_seconds: float = Field(
        300.0, alias="OUTBOX_BACKOFF_CAP_SECONDS", gt=0, le=86400
    )
    outbox_lease_seconds: float = Field(120.0, alias="OUTBOX_LEASE_SECONDS", gt=0, le=3600)
    outbox_poll_seconds: float = Field(0.5, alias="OUTBOX_POLL_SECONDS", gt=0, le=60)
    database_timeout_seconds: float = Field(5.0, alias="DATABASE_TIMEOUT_SECONDS", gt=0, le=120)
    # Teams gives up on a turn after ~15 s and sends it again; answer well before.
    request_deadline_seconds: float = Field(10.0, alias="REQUEST_DEADLINE_SECONDS", gt=0, le=60)
    # A delivery's keys left pending this long after the deadline were abandoned by a process
    # that died mid-turn; the margin covers clocks of replicas that disagree.
    delivery_takeover_margin_seconds: float = Field(
        5.0, alias="DELIVERY_TAKEOVER_MARGIN_SECONDS", gt=0, le=300
    )
    # The SDK's own configuration names for the same two endpoints.
    openid_metadata_url: str = Field(
        BOT_FRAMEWORK_OPENID_METADATA_URL, alias="TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL"
    )
    bot_login_url: str = Field("", alias="TO_CHANNEL_FROM_BOT_LOGIN_URL")
    # How often the keys that sign Teams' requests are fetched again in the background, and
    # how often at most a token naming a key they do not list may make the bot fetch them.
    signing_keys_refresh_seconds: float = Field(
        43200.0, alias="SIGNING_KEYS_REFRESH_SECONDS", gt=0, le=86400
    )
    signing_keys_refetch_seconds: float = Field(
        300.0, alias="SIGNING_KEYS_REFETCH_SECONDS", gt=0, le=86400
    )
    # The organization's Azure AD tenant: activities from any other tenant are refused. With an
    # app id, one must be known (this, or MicrosoftAppTenantId); "*" serves every tenant.
    tenant_id: str = Field("", alias="TENANT_ID")
    # Retention (docs/retention.md): closed cases (and finished outbox items, delivery keys)
    # are deleted this many days after their last change; audit log entries after theirs.
    retention_days: int = Field(DEFAULT_RETENTION_DAYS, alias="RETENTION_DAYS")
    audit_retention_days: int = Field(DEFAULT_AUDIT_RETENTION_DAYS, alias="AUDIT_RETENTION_DAYS")

    @property
    def local_mode(self) -> bool:
        return not self.app_id

    @property
    def channel_login_url(self) -> str:
        """The authority the bot's tokens for the Bot Connector come from: Bot Framework's
        tenant for a multi-tenant app, the app's own tenant for a single-tenant one."""
        if self.bot_login_url:
            return self.bot_login_url.rstrip("/")
        tenant = self.app_tenant_id if self.app_type is AppType.SINGLE_TENANT else ""
        return f"{MICROSOFT_LOGIN_HOST}/{tenant or 'botframework.com'}"

    @property
    def uses_managed_identity(self) -> bool:
        """The bot's tokens come from the Azure host's managed identity, not a secret."""
        return bool(self.app_id) and self.app_type is AppType.USER_ASSIGNED_MSI

    @property
    def graph_credentials(self) -> tuple[str, str, str] | None:
        """Client id, secret and authority for Graph with a client secret, or None (no
        secret, or Graph through the managed identity: :attr:`graph_managed_identity`).
        Client credentials need a tenant, not the multi-tenant "common" authority."""
        client_id = self.graph_client_id or self.app_id
        secret = self.graph_client_secret or self.app_password
        if not (client_id and secret and self.app_tenant_id):
            return None
        authority = f"{self.graph_authority_host.rstrip('/')}/{self.app_tenant_id}"
        return client_id, secret, authority

    @property
    def graph_managed_identity(self) -> str | None:
        """The client id of the managed identity Graph's tokens come from: a UserAssignedMSI
        bot's own, unless GRAPH_CLIENT_SECRET names another app registration for Graph."""
        if self.uses_managed_identity and self.app_tenant_id and self.graph_credentials is None:
            return self.app_id
        return None

    @property
    def graph_configured(self) -> bool:
        return self.graph_credentials is not None or self.graph_managed_identity is not None

    @property
    def group_chats_missing(self) -> tuple[str, ...]:
        """The settings an admin must still set for group chats (Graph, and the app to
        install in them), named as they are set; empty when group chats can work."""
        missing = []
        if not self.graph_configured:
            if not (self.graph_client_id or self.app_id):
                missing.append("MicrosoftAppId (or GRAPH_CLIENT_ID)")
            if not (self.graph_client_secret or self.app_password):
                missing.append("MicrosoftAppPassword (or GRAPH_CLIENT_SECRET)")
            if not self.app_tenant_id:
                missing.append("MicrosoftAppTenantId")
        if not self.teams_app_id:
            missing.append("TEAMS_APP_ID")
        return tuple(missing)

    @property
    def delivery_abandoned_after(self) -> timedelta:
        """How long a delivery's turn may hold its keys unfinished: no turn outlives the
        request deadline, so a claim older than that (and the margin) lost its process."""
        return timedelta(
            seconds=self.request_deadline_seconds + self.delivery_takeover_margin_seconds
        )

    @property
    def file_upload_host_list(self) -> tuple[str, ...]:
        return tuple(h.strip() for h in self.file_upload_hosts.split(",") if h.strip())

    @property
    def admin_ids(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.bot_admins.split(",") if part.strip())

    @property
    def allowed_tenant(self) -> str:
        """The only tenant whose activities are served; empty: any tenant (local mode, or
        TENANT_ID=* said on purpose)."""
        if self.tenant_id == ANY_TENANT:
            return ""
        return self.tenant_id or self.app_tenant_id.strip().lower()

    @property
    def listen_host(self) -> str:
        if self.host:
            return self.host
        return "127.0.0.1" if self.local_mode else "0.0.0.0"

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        problem = database_url_problem(value)
        if problem is None:
            return value
        raise ValueError(f"{problem}; accepted forms: {_DATABASE_URL_FORMS}")

    @field_validator("openid_metadata_url", "bot_login_url")
    @classmethod
    def _https(cls, value: str) -> str:
        # Keys and tokens fetched over plain HTTP could be swapped on the way.
        if value and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("tenant_id")
    @classmethod
    def _tenant_or_any(cls, value: str) -> str:
        tenant = value.strip().lower()
        if tenant and tenant != ANY_TENANT and not _GUID.fullmatch(tenant):
            raise ValueError(
                "must be your Azure AD tenant id (a GUID, as Azure shows it), or * for every tenant"
            )
        return tenant

    @field_validator("retention_days", "audit_retention_days")
    @classmethod
    def _days_to_keep(cls, value: int) -> int:
        if value < 0:
            raise ValueError(
                f"must be a number of days to keep, or 0 to keep for ever; got {value}"
            )
        if value > MAX_RETENTION_DAYS:
            raise ValueError(
                f"must be at most {MAX_RETENTION_DAYS} days (100 years); got {value}. Set it to "
                "0 to keep for ever"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return level

    @model_validator(mode="after")
    def _credentials_complete(self) -> Settings:
        if self.app_id and self.app_type is not AppType.USER_ASSIGNED_MSI and not self.app_password:
            raise ValueError(
                "MicrosoftAppPassword is required when MicrosoftAppId is set "
                "(the client secret of the Azure Bot's app registration)"
            )
        if self.uses_managed_identity and not self.app_tenant_id:
            raise ValueError(
                "MicrosoftAppTenantId is required with a managed identity (MicrosoftAppType "
                "is UserAssignedMSI): the Directory (tenant) ID the user-assigned managed "
                "identity belongs to (`az identity show --query tenantId`); MicrosoftAppId is "
                "that identity's client id"
            )
        if self.app_id and self.app_type is AppType.SINGLE_TENANT and not self.app_tenant_id:
            raise ValueError(
                "MicrosoftAppTenantId is required for a single-tenant bot (MicrosoftAppType "
                "is SingleTenant unless set): the Directory (tenant) ID shown on the app "
                "registration's Overview page; set MicrosoftAppType=MultiTenant only for a "
                "registration made multi-tenant before Azure stopped creating them"
            )
        if self.app_id and not (self.tenant_id or self.app_tenant_id):
            # Case notes are the organization's: another tenant's users must not be served by
            # an oversight, only by TENANT_ID=* said on purpose.
            raise ValueError(
                "TENANT_ID is required when MicrosoftAppId is set: your organization's Azure "
                "AD tenant id (or MicrosoftAppTenantId); TENANT_ID=* serves every tenant"
            )
        if self.app_id and self.metrics_port == self.port:
            # Both would listen on one port, and /metrics must never be on the public one.
            raise ValueError(
                f"METRICS_PORT ({self.metrics_port}) must differ from PORT ({self.port}): "
                "with MicrosoftAppId set, /metrics is served only on its own internal port; "
                "set METRICS_PORT to a free port that only your Prometheus can reach"
            )
        keep, audit = self.retention_days, self.audit_retention_days
        if keep and audit and audit < keep:
            # The audit log says who bound the channel whose team could act on the cards and
            # who changed their settings: it must not be gone while the cases it explains are
            # still there.
            raise ValueError(
                f"AUDIT_RETENTION_DAYS ({audit}) is shorter than RETENTION_DAYS ({keep}): the "
                "audit log must be kept at least as long as the cases it explains. Set "
                f"AUDIT_RETENTION_DAYS to {keep} or more (0 keeps it for ever), or lower "
                "RETENTION_DAYS"
            )
        return self


def database_url_problem(url: str) -> str | None:
    """What keeps ``url`` from naming a database the bot can open, or None if nothing does.

    The same reading as storage's ``parse_database_url`` (config may not import storage), so a
    URL accepted here does not fail at start-up. A PostgreSQL URL is never echoed back: it may
    hold a password.
    """
    scheme, separator, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme == "sqlite" and separator:
        if not rest.startswith("/"):
            return f"the SQLite URL {url!r} needs three slashes before the file's path"
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            return f"the SQLite URL {url!r} takes no '?' or '#' part"
        path = rest[1:]
        if not path:
            return f"the SQLite URL {url!r} names no file"
        if path.endswith("/"):
            return f"the SQLite URL {url!r} names a folder, not a file"
        return None
    if scheme in ("postgresql", "postgres") and separator:
        parts = urlsplit(url)
        # libpq's form for a Unix socket puts the host, and may put the database, in the query.
        query = parse_qs(parts.query)
        if not parts.hostname and not query.get("host"):
            return "the PostgreSQL URL names no host"
        if not parts.path.strip("/") and not (query.get("dbname") or query.get("database")):
            return "the PostgreSQL URL names no database"
        return None
    return f"a {scheme}:// URL is not supported" if scheme and separator else "not a database URL"


def load_settings() -> Settings:
    """Settings from the environment, or SettingsError naming what is wrong."""
    try:
        return Settings()
    except ValidationError as error:
        raise SettingsError(describe_errors(error, Settings)) from None


def describe_errors(error: ValidationError, model: type[BaseSettings]) -> str:
    lines = []
    for item in error.errors():
        location = item["loc"]
        name = str(location[0]) if location else ""
        field = model.model_fields.get(name)
        setting = field.alias if field is not None and field.alias else name
        prefix = f"{setting}: " if setting else ""
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{prefix}{message}")
    return "Bad settings:\n  " + "\n  ".join(lines)
