"""infra/main.bicep and its parameters file, checked where the Bicep CLI cannot run (it cannot
be installed on this machine): the file is parsed by pycep (so a syntax error fails here), and
what it sets is checked against the app — its settings' names, the routes it serves, its port
— and against what a Teams bot on Azure needs. What Azure itself validates (resource
properties per API version, names, quotas) is not checked here."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pycep import BicepParser

from config.settings import AppType, Settings

from ship.artifacts import (
    BICEP,
    bicep,
    bicep_parameters_file,
    resolve,
    resource,
    resources_of_type,
    served_paths,
    settings_aliases,
)

KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"


def container_app() -> dict[str, Any]:
    [app] = resources_of_type("Microsoft.App/containerApps").values()
    return app


def bot_container() -> dict[str, Any]:
    [container] = container_app()["properties"]["template"]["containers"]
    return container  # type: ignore[no-any-return]


def environment() -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in bot_container()["env"]}


def secrets_of(configuration: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {secret["name"]: secret for secret in resolve(configuration["secrets"])}


def decorators(parameter: str) -> dict[str, Any]:
    declared = bicep()["parameters"][parameter]["decorators"]
    return {d["type"]: d.get("argument") for d in declared}


def test_the_template_parses_and_the_parser_refuses_a_broken_one() -> None:
    assert set(bicep()) >= {"parameters", "resources", "outputs"}
    broken = BICEP.read_text(encoding="utf-8").replace("minReplicas: minReplicas", "minReplicas")
    with pytest.raises(Exception, match="Unexpected"):
        BicepParser(cache=False).parse(text=broken)


def test_every_parameter_has_a_default_or_a_value_in_the_parameters_file() -> None:
    parameters = bicep()["parameters"]
    given = bicep_parameters_file()
    missing = [n for n, p in parameters.items() if p["default"] is None and n not in given]
    assert missing == []
    unknown = sorted(set(given) - set(parameters))
    assert unknown == [], "Azure refuses a parameters file naming parameters the template lacks"


def test_no_secret_is_written_in_the_parameters_file() -> None:
    given = bicep_parameters_file()
    secure = [name for name in bicep()["parameters"] if "secure" in decorators(name)]
    assert {"botClientSecret", "postgresAdminPassword"} <= set(secure)
    for name in secure:
        assert given.get(name, {}).get("value", "") == "", f"{name}: pass it with -p, not here"
        # Left empty, the deployment is refused rather than run with no secret.
        assert decorators(name).get("min_length", 0) >= 1


def test_at_least_two_replicas_always_run() -> None:
    scale = container_app()["properties"]["template"]["scale"]
    assert resolve(scale["minReplicas"]) >= 2
    assert decorators(scale["minReplicas"])["min_value"] >= 2
    assert bicep_parameters_file()["minReplicas"]["value"] >= 2


def test_ingress_reaches_the_port_the_bot_listens_on() -> None:
    ingress = container_app()["properties"]["configuration"]["ingress"]
    assert ingress["external"] is True and ingress["allowInsecure"] is False
    port = resolve(ingress["targetPort"])
    assert port == Settings.model_fields["port"].default == 3978
    as_text = environment()["PORT"]["value"]["function"]  # string(botPort)
    assert resolve(as_text["parameters"]["value_to_convert"]) == port


def test_metrics_are_reachable_inside_the_environment_and_never_from_the_internet() -> None:
    ingress = container_app()["properties"]["configuration"]["ingress"]
    [mapping] = resolve(ingress["additionalPortMappings"])
    assert mapping["external"] is False
    port = resolve(mapping["targetPort"])
    assert port == Settings.model_fields["metrics_port"].default
    as_text = environment()["METRICS_PORT"]["value"]["function"]  # string(metricsPort)
    assert resolve(as_text["parameters"]["value_to_convert"]) == port


def test_the_probes_ask_paths_app_py_serves_on_its_port() -> None:
    probes = {probe["type"]: probe["httpGet"] for probe in bot_container()["probes"]}
    assert probes["Liveness"]["path"] == "/healthz"
    assert probes["Readiness"]["path"] == "/readyz"
    target = resolve(container_app()["properties"]["configuration"]["ingress"]["targetPort"])
    for kind, probe in probes.items():
        assert probe["path"] in served_paths(), kind
        assert resolve(probe["port"]) == target, kind


def test_every_variable_set_on_the_container_is_a_setting_of_the_app() -> None:
    unknown = sorted(set(environment()) - settings_aliases())
    assert unknown == [], "names config.settings.Settings does not read (a typo is ignored)"
    assert {
        "MicrosoftAppId",
        "MicrosoftAppPassword",
        "MicrosoftAppType",
        "MicrosoftAppTenantId",
        "TENANT_ID",
        "DATABASE_URL",
        "METRICS_PORT",
    } <= set(environment())


def test_secrets_reach_the_container_from_key_vault_never_as_plain_values() -> None:
    sensitive = {f.alias for f in Settings.model_fields.values() if f.alias and not f.repr}
    sensitive.add("DATABASE_URL")  # it holds the database password
    secrets = secrets_of(container_app()["properties"]["configuration"])
    [identity] = resources_of_type("Microsoft.ManagedIdentity/userAssignedIdentities")
    for name, entry in environment().items():
        if name in sensitive:
            assert "value" not in entry and "secretRef" in entry, name
        if "secretRef" in entry:
            secret = secrets[entry["secretRef"]]
            assert "value" not in secret and "keyVaultUrl" in secret, name
            assert secret["identity"]["operator"]["operands"]["operand_1"] == identity
    assert {"MicrosoftAppPassword", "DATABASE_URL"} <= {
        n for n, e in environment().items() if "secretRef" in e
    }
    assigned = container_app()["identity"]
    assert assigned["type"] == "UserAssigned"
    assert list(assigned["userAssignedIdentities"]) == [f"'${{{identity}.id}}'"]


def test_the_identity_may_read_the_vault_s_secrets_and_the_vault_uses_rbac() -> None:
    [vault] = resources_of_type("Microsoft.KeyVault/vaults").values()
    assert vault["properties"]["enableRbacAuthorization"] is True
    [identity] = resources_of_type("Microsoft.ManagedIdentity/userAssignedIdentities")
    [vault_name] = resources_of_type("Microsoft.KeyVault/vaults")
    grants = [
        r
        for r in resources_of_type("Microsoft.Authorization/roleAssignments").values()
        if r["scope"] == vault_name
    ]
    [grant] = grants
    role = resolve(grant["properties"]["roleDefinitionId"])["function"]["parameters"]
    assert role["resource_name_1"] == KEY_VAULT_SECRETS_USER
    assert grant["properties"]["principalId"]["operator"]["operands"]["operand_1"] == identity
    stored = {s["name"] for s in resources_of_type("Microsoft.KeyVault/vaults/secrets").values()}
    assert {"bot-client-secret", "database-url", "postgres-admin-password"} <= stored


def test_the_vault_s_database_url_names_the_handoff_database_on_the_flexible_server() -> None:
    [server_name] = resources_of_type("Microsoft.DBforPostgreSQL/flexibleServers")
    server = resource(server_name)
    assert server["sku"] == {"name": "Standard_B1ms", "tier": "Burstable"}
    assert server["properties"]["version"] == "16"
    [database] = resources_of_type("Microsoft.DBforPostgreSQL/flexibleServers/databases").values()
    assert resolve(database["name"]) == "handoff"
    [url] = [
        s["properties"]["value"]
        for s in resources_of_type("Microsoft.KeyVault/vaults/secrets").values()
        if s["name"] == "database-url"
    ]
    assert url.startswith("postgresql://")
    assert f"@${{{server_name}.properties.fullyQualifiedDomainName}}:5432/" in url
    assert url.endswith(f"/${{{database['name']}}}?sslmode=require")
    assert resources_of_type("Microsoft.DBforPostgreSQL/flexibleServers/firewallRules")


def test_the_azure_bot_is_single_tenant_on_the_container_s_app_and_tenant() -> None:
    [bot_name] = resources_of_type("Microsoft.BotService/botServices")
    bot = resource(bot_name)
    assert bot["kind"] == "azurebot" and bot["location"] == "global"
    assert set(decorators(bot["sku"]["name"])["allowed"]) == {"F0", "S1"}
    properties = bot["properties"]
    assert (
        properties["msaAppType"]
        == AppType.SINGLE_TENANT
        == environment()["MicrosoftAppType"]["value"]
    )
    assert properties["msaAppId"] == environment()["MicrosoftAppId"]["value"]
    assert properties["msaAppTenantId"] == environment()["MicrosoftAppTenantId"]["value"]
    assert environment()["TENANT_ID"]["value"] == properties["msaAppTenantId"]
    [app_name] = resources_of_type("Microsoft.App/containerApps")
    endpoint = properties["endpoint"]
    assert endpoint == f"https://${{{app_name}.properties.configuration.ingress.fqdn}}/api/messages"
    assert "/api/messages" in served_paths()


def test_the_azure_bot_has_the_microsoft_teams_channel() -> None:
    [bot_name] = resources_of_type("Microsoft.BotService/botServices")
    [channel] = resources_of_type("Microsoft.BotService/botServices/channels").values()
    assert channel["parent"] == bot_name
    assert channel["name"] == "MsTeamsChannel"
    assert channel["properties"]["channelName"] == "MsTeamsChannel"
    assert channel["properties"]["properties"]["isEnabled"] is True


def test_the_app_would_start_with_the_container_s_settings() -> None:
    samples = {
        "botAppId": "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
        "tenantId": "7c6b5a49-3827-4165-9f8e-7d6c5b4a3928",
        "bot-client-secret": "a-client-secret",
        "database-url": "postgresql://handoffadmin:pw@example.postgres.database.azure.com/handoff",
    }
    values: dict[str, Any] = {}
    for name, entry in environment().items():
        given = entry.get("secretRef", entry.get("value"))
        if isinstance(given, dict):  # string(port)
            given = str(resolve(given["function"]["parameters"]["value_to_convert"]))
        values[name] = samples.get(str(given), str(resolve(given)))
    settings = Settings(**values)
    assert not settings.local_mode
    assert settings.app_type is AppType.SINGLE_TENANT
    assert settings.allowed_tenant == samples["tenantId"]
    assert settings.listen_host == "0.0.0.0"


def test_the_migration_job_runs_app_py_migrate_on_the_same_secret_database_url() -> None:
    [job] = resources_of_type("Microsoft.App/jobs").values()
    [container] = job["properties"]["template"]["containers"]
    assert container["command"] == ["python", "app.py", "migrate"]
    assert container["image"] == bot_container()["image"]
    [database_url] = [e for e in container["env"] if e["name"] == "DATABASE_URL"]
    job_secrets = secrets_of(job["properties"]["configuration"])
    app_secrets = secrets_of(container_app()["properties"]["configuration"])
    assert (
        job_secrets[database_url["secretRef"]]
        == app_secrets[environment()["DATABASE_URL"]["secretRef"]]
    )


def test_resources_use_released_api_versions() -> None:
    versions = {r["type"]: r["api_version"] for r in bicep()["resources"].values()}
    previews = {kind: v for kind, v in versions.items() if "preview" in v}
    assert previews == {}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) for v in versions.values())
