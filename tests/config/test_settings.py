from datetime import timedelta

import pytest

from config.settings import DEFAULT_DATABASE_URL, AppType, SettingsError, load_settings
from storage.database import parse_database_url

ORG_TENANT = "2f9c1d4e-8b7a-4c3d-9e2f-1a0b9c8d7e6f"
APP_TENANT = "7e6f5d4c-3b2a-4190-8f7e-6d5c4b3a2910"
SETTING_NAMES = [
    "MicrosoftAppId",
    "MicrosoftAppPassword",
    "MicrosoftAppType",
    "MicrosoftAppTenantId",
    "DATABASE_URL",
    "HANDOFF_CONFIG",
    "LOG_LEVEL",
    "PORT",
    "METRICS_PORT",
    "HOST",
    "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL",
    "TO_CHANNEL_FROM_BOT_LOGIN_URL",
    "TENANT_ID",
    "REQUEST_DEADLINE_SECONDS",
    "DELIVERY_TAKEOVER_MARGIN_SECONDS",
    "SIGNING_KEYS_REFRESH_SECONDS",
    "SIGNING_KEYS_REFETCH_SECONDS",
    "RETENTION_DAYS",
    "AUDIT_RETENTION_DAYS",
    "GRAPH_CLIENT_ID",
    "GRAPH_CLIENT_SECRET",
    "TEAMS_APP_ID",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)


def test_defaults_run_locally_on_sqlite() -> None:
    settings = load_settings()
    assert settings.local_mode
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.port == 3978
    assert settings.listen_host == "127.0.0.1"
    assert settings.handoff_config.name == "handoff.yaml"


def test_bot_framework_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "app-id")
    monkeypatch.setenv("MicrosoftAppPassword", "secret")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    monkeypatch.setenv("MicrosoftAppTenantId", "tenant-id")
    settings = load_settings()
    assert not settings.local_mode
    assert settings.app_type is AppType.SINGLE_TENANT
    assert settings.listen_host == "0.0.0.0"
    assert "secret" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PORT", "eighty", "PORT: Input should be a valid integer"),
        ("PORT", "70000", "PORT: Input should be less than or equal to 65535"),
        ("METRICS_PORT", "0", "METRICS_PORT: Input should be greater than or equal to 1"),
        ("METRICS_PORT", "65536", "METRICS_PORT: Input should be less than or equal to 65535"),
        ("DATABASE_URL", "mysql://db/handoff", "DATABASE_URL: a mysql:// URL is not supported"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: must be DEBUG, INFO"),
        ("MicrosoftAppType", "Everyone", "MicrosoftAppType: Input should be 'MultiTenant'"),
        (
            "DELIVERY_TAKEOVER_MARGIN_SECONDS",
            "0",
            "DELIVERY_TAKEOVER_MARGIN_SECONDS: Input should be greater than 0",
        ),
        (
            "SIGNING_KEYS_REFRESH_SECONDS",
            "172800",
            "SIGNING_KEYS_REFRESH_SECONDS: Input should be less than or equal to 86400",
        ),
        (
            "SIGNING_KEYS_REFETCH_SECONDS",
            "0",
            "SIGNING_KEYS_REFETCH_SECONDS: Input should be greater than 0",
        ),
        (
            "RETENTION_DAYS",
            "-1",
            "RETENTION_DAYS: must be a number of days to keep, or 0 to keep for ever; got -1",
        ),
        ("RETENTION_DAYS", "ninety", "RETENTION_DAYS: Input should be a valid integer"),
        (
            "AUDIT_RETENTION_DAYS",
            "36501",
            "AUDIT_RETENTION_DAYS: must be at most 36500 days (100 years); got 36501. Set it to 0",
        ),
        (
            "AUDIT_RETENTION_DAYS",
            "-365",
            "AUDIT_RETENTION_DAYS: must be a number of days to keep, or 0 to keep for ever",
        ),
    ],
)
def test_a_bad_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert message in str(caught.value)


def test_a_turns_keys_count_as_abandoned_after_the_deadline_and_the_margin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().delivery_abandoned_after == timedelta(seconds=15)
    monkeypatch.setenv("REQUEST_DEADLINE_SECONDS", "4")
    monkeypatch.setenv("DELIVERY_TAKEOVER_MARGIN_SECONDS", "1.5")
    assert load_settings().delivery_abandoned_after == timedelta(seconds=5.5)


def test_metrics_port_defaults_to_9464_and_must_differ_from_port_once_it_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().metrics_port == 9464
    # Local mode serves /metrics on PORT itself: METRICS_PORT is not used there.
    monkeypatch.setenv("PORT", "9464")
    assert load_settings().port == 9464
    monkeypatch.setenv("MicrosoftAppId", "app-id")
    monkeypatch.setenv("MicrosoftAppPassword", "secret")
    monkeypatch.setenv("MicrosoftAppTenantId", ORG_TENANT)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "METRICS_PORT (9464) must differ from PORT (9464)" in str(caught.value)
    monkeypatch.setenv("METRICS_PORT", "9100")
    assert load_settings().metrics_port == 9100


def test_an_app_id_without_a_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "app-id")
    with pytest.raises(SettingsError, match="MicrosoftAppPassword is required"):
        load_settings()


def test_single_tenant_needs_the_tenant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "app-id")
    monkeypatch.setenv("MicrosoftAppPassword", "secret")
    monkeypatch.setenv("MicrosoftAppType", "SingleTenant")
    with pytest.raises(SettingsError, match="MicrosoftAppTenantId is required"):
        load_settings()


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("sqlite:///data/", "the SQLite URL 'sqlite:///data/' names a folder, not a file"),
        ("sqlite:////", "the SQLite URL 'sqlite:////' names a folder, not a file"),
        ("sqlite:///", "the SQLite URL 'sqlite:///' names no file"),
        ("sqlite://handoff.db", "the SQLite URL 'sqlite://handoff.db' needs three slashes"),
        (
            "sqlite:///data/handoff.db?mode=ro",
            "the SQLite URL 'sqlite:///data/handoff.db?mode=ro' takes no '?' or '#' part",
        ),
        ("postgresql://", "the PostgreSQL URL names no host"),
        ("postgresql:///handoff", "the PostgreSQL URL names no host"),
        (
            "postgres://handoff:secret@db.example.invalid:5432/",
            "the PostgreSQL URL names no database",
        ),
        ("postgresql://db.example.invalid", "the PostgreSQL URL names no database"),
        ("mysql://handoff:secret@db/handoff", "a mysql:// URL is not supported"),
        ("data/handoff.db", "not a database URL"),
    ],
)
def test_an_unusable_database_url_is_named_with_the_accepted_forms(
    monkeypatch: pytest.MonkeyPatch, url: str, problem: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    message = str(caught.value)
    assert f"DATABASE_URL: {problem}" in message
    assert (
        "accepted forms: sqlite:///relative/path.db, sqlite:////absolute/path.db, "
        "postgresql://user:password@host:5432/dbname"
    ) in message
    # A URL that may carry a password is never repeated in the message.
    assert "secret" not in message


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///data/handoff.db",
        "sqlite:////var/lib/handoff/handoff.db",
        "SQLite:///handoff.db",
        "postgresql://handoff:secret@db.example.invalid:5432/handoff",
        "postgres://db.example.invalid/handoff",
        "postgresql:///handoff?host=/var/run/postgresql",
        "postgresql://db.example.invalid?dbname=handoff",
    ],
)
def test_a_usable_database_url_is_accepted_and_storage_reads_it(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert load_settings().database_url == url
    # What settings let through must not fail when the app opens the database.
    parse_database_url(url)


def test_the_bot_gets_its_tokens_from_its_own_tenant_when_single_tenant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MicrosoftAppId", "app-id")
    monkeypatch.setenv("MicrosoftAppPassword", "secret")
    monkeypatch.setenv("MicrosoftAppTenantId", APP_TENANT)
    single = load_settings()
    assert single.app_type is AppType.SINGLE_TENANT, "Azure makes single-tenant bots only"
    assert single.channel_login_url == f"https://login.microsoftonline.com/{APP_TENANT}"
    assert single.allowed_tenant == APP_TENANT
    monkeypatch.setenv("MicrosoftAppType", "MultiTenant")
    monkeypatch.delenv("MicrosoftAppTenantId")
    monkeypatch.setenv("TENANT_ID", ORG_TENANT)
    assert load_settings().channel_login_url == "https://login.microsoftonline.com/botframework.com"


def test_a_managed_identity_needs_no_password_but_its_tenant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MicrosoftAppId", "identity-client-id")
    monkeypatch.setenv("MicrosoftAppType", "UserAssignedMSI")
    monkeypatch.setenv("TENANT_ID", ORG_TENANT)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    said = str(caught.value)
    assert "MicrosoftAppTenantId is required with a managed identity" in said
    assert "UserAssignedMSI" in said and "az identity show --query tenantId" in said
    assert "MicrosoftAppId is that identity's client id" in said
    assert "MicrosoftAppPassword" not in said
    monkeypatch.setenv("MicrosoftAppTenantId", APP_TENANT)
    settings = load_settings()
    assert settings.uses_managed_identity and settings.app_password == ""


def test_graph_goes_through_the_managed_identity_unless_a_secret_is_given_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MicrosoftAppId", "identity-client-id")
    monkeypatch.setenv("MicrosoftAppType", "UserAssignedMSI")
    monkeypatch.setenv("MicrosoftAppTenantId", APP_TENANT)
    identity = load_settings()
    assert identity.graph_managed_identity == "identity-client-id"
    assert identity.graph_credentials is None and identity.graph_configured
    assert identity.group_chats_missing == ("TEAMS_APP_ID",)
    # Another app registration for Graph, with its secret, is used as before.
    monkeypatch.setenv("GRAPH_CLIENT_ID", "graph-app")
    monkeypatch.setenv("GRAPH_CLIENT_SECRET", "graph-secret")
    registration = load_settings()
    assert registration.graph_managed_identity is None
    assert registration.graph_credentials == (
        "graph-app",
        "graph-secret",
        f"https://login.microsoftonline.com/{APP_TENANT}",
    )


def test_a_single_tenant_bot_without_a_secret_for_graph_names_what_group_chats_need(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MicrosoftAppId", "app-id")
    monkeypatch.setenv("MicrosoftAppPassword", "secret")
    monkeypatch.setenv("MicrosoftAppTenantId", APP_TENANT)
    secret = load_settings()
    assert secret.graph_managed_identity is None
    assert secret.graph_credentials == (
        "app-id",
        "secret",
        f"https://login.microsoftonline.com/{APP_TENANT}",
    )
    assert secret.group_chats_missing == ("TEAMS_APP_ID",)
    for name in ("MicrosoftAppId", "MicrosoftAppPassword", "MicrosoftAppTenantId"):
        monkeypatch.delenv(name)
    assert load_settings().group_chats_missing == (
        "MicrosoftAppId (or GRAPH_CLIENT_ID)",
        "MicrosoftAppPassword (or GRAPH_CLIENT_SECRET)",
        "MicrosoftAppTenantId",
        "TEAMS_APP_ID",
    )


@pytest.mark.parametrize(
    "name", ["TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL", "TO_CHANNEL_FROM_BOT_LOGIN_URL"]
)
def test_signing_keys_and_tokens_come_over_https_only(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "http://login.example/keys")
    with pytest.raises(SettingsError, match=f"{name}: must be an https:// URL"):
        load_settings()


def test_the_served_tenant_is_tenant_id_else_the_app_tenant_else_any(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().allowed_tenant == "", "local mode serves any tenant, as before"
    monkeypatch.setenv("MicrosoftAppTenantId", APP_TENANT)
    assert load_settings().allowed_tenant == APP_TENANT
    monkeypatch.setenv("TENANT_ID", f" {ORG_TENANT.upper()}\n")  # as pasted, or from a file
    assert load_settings().allowed_tenant == ORG_TENANT
    monkeypatch.setenv("TENANT_ID", "*")
    assert load_settings().allowed_tenant == ""
    monkeypatch.setenv("TENANT_ID", "contoso")
    with pytest.raises(SettingsError, match="TENANT_ID: must be your Azure AD tenant id"):
        load_settings(), "every tenant, said on purpose"


def test_an_app_id_without_a_tenant_does_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another organization's users would read the cases: the tenant is named, and * is the
    only way to serve every tenant."""
    monkeypatch.setenv("MicrosoftAppId", "app-id")
    monkeypatch.setenv("MicrosoftAppPassword", "secret")
    with pytest.raises(SettingsError, match="MicrosoftAppTenantId is required for a single-"):
        load_settings()
    # A registration made multi-tenant before Azure stopped creating them needs no app
    # tenant, but still the organization's.
    monkeypatch.setenv("MicrosoftAppType", "MultiTenant")
    with pytest.raises(SettingsError, match="TENANT_ID is required when MicrosoftAppId is set"):
        load_settings()
    monkeypatch.setenv("TENANT_ID", "*")
    assert load_settings().allowed_tenant == ""
    monkeypatch.setenv("TENANT_ID", "contoso")
    with pytest.raises(SettingsError, match="TENANT_ID: must be your Azure AD tenant id"):
        load_settings()


def test_closed_cases_are_kept_90_days_and_the_audit_log_a_year_unless_told() -> None:
    settings = load_settings()
    assert (settings.retention_days, settings.audit_retention_days) == (90, 365)


def test_an_audit_log_kept_shorter_than_the_cases_it_explains_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETENTION_DAYS", "180")
    monkeypatch.setenv("AUDIT_RETENTION_DAYS", "30")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert (
        "AUDIT_RETENTION_DAYS (30) is shorter than RETENTION_DAYS (180): the audit log must be "
        "kept at least as long as the cases it explains. Set AUDIT_RETENTION_DAYS to 180 or "
        "more (0 keeps it for ever), or lower RETENTION_DAYS"
    ) in str(caught.value)


@pytest.mark.parametrize(
    ("cases", "audit"), [("0", "0"), ("0", "30"), ("30", "0"), ("30", "30"), ("7", "3650")]
)
def test_zero_keeps_for_ever_and_an_audit_log_kept_as_long_or_longer_is_fine(
    monkeypatch: pytest.MonkeyPatch, cases: str, audit: str
) -> None:
    monkeypatch.setenv("RETENTION_DAYS", cases)
    monkeypatch.setenv("AUDIT_RETENTION_DAYS", audit)
    settings = load_settings()
    assert (settings.retention_days, settings.audit_retention_days) == (int(cases), int(audit))
