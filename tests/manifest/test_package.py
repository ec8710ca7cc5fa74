"""The Teams app package: a valid v1.25 manifest and the two icons, nothing else; the compose
box's commands, and the case system's host for link unfurling when one is configured."""

from __future__ import annotations

import json
import logging
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from PIL import Image

from config.settings import DEFAULT_CONFIG_PATH
from manifest import package

SCHEMAS = Path(__file__).resolve().parents[1] / "fixtures" / "schemas"
SCHEMA = SCHEMAS / "MicrosoftTeams.schema.v1.25.json"
APP_ID = "11111111-2222-4333-8444-555555555555"
BOT_ID = "66666666-7777-4888-8999-000000000000"
ENV = {
    "TEAMS_APP_ID": APP_ID,
    "MicrosoftAppId": BOT_ID,
    "DEVELOPER_NAME": "Support Tools",
    "DEVELOPER_WEBSITE": "https://example.invalid/handoff",
    "PRIVACY_URL": "https://example.invalid/privacy",
    "TERMS_URL": "https://example.invalid/terms",
    "BOT_DOMAIN": "handoff.example.invalid",
}


def manifest_validator() -> Any:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # tests/fixtures/schemas/README.md: Python's re has no \p{L}.
    name = schema["definitions"]["extensionFunction"]["properties"]["name"]
    name["pattern"] = name["pattern"].replace("\\p{L}", "[^\\W\\d_]")
    return jsonschema.validators.validator_for(schema)(schema)


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> zipfile.ZipFile:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert package.main() == 0
    return zipfile.ZipFile(tmp_path / "build" / "appPackage.zip")


def test_the_zip_holds_exactly_the_manifest_and_two_icons(built: zipfile.ZipFile) -> None:
    assert sorted(built.namelist()) == ["color.png", "manifest.json", "outline.png"]


def test_the_manifest_is_valid_v1_25_with_the_ids_filled_in(built: zipfile.ZipFile) -> None:
    manifest = json.loads(built.read("manifest.json"))
    errors = list(manifest_validator().iter_errors(manifest))
    assert errors == [], errors[0].message if errors else ""
    assert manifest["manifestVersion"] == "1.25"  # draft-04 does not enforce the const
    assert manifest["id"] == APP_ID
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["validDomains"] == ["handoff.example.invalid"]
    assert manifest["version"] == "0.1.0"


def test_icons_are_the_sizes_teams_wants_and_the_outline_is_white_on_transparent(
    built: zipfile.ZipFile,
) -> None:
    colour = Image.open(BytesIO(built.read("color.png")))
    assert colour.size == (192, 192)
    outline = Image.open(BytesIO(built.read("outline.png"))).convert("RGBA")
    assert outline.size == (32, 32)
    pixels = {outline.getpixel((x, y)) for x in range(32) for y in range(32)}
    assert all(isinstance(p, tuple) and len(p) == 4 for p in pixels)
    assert (0, 0, 0, 0) in pixels, "has a transparent background"
    rgba = [p for p in pixels if isinstance(p, tuple)]
    assert all(p[3] == 0 or p[:3] == (255, 255, 255) for p in rgba), "white or clear only"


def test_missing_values_stop_the_build_naming_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEAMS_APP_ID", "not-a-guid")
    monkeypatch.setenv("PRIVACY_URL", "http://example.invalid/privacy")
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.ERROR):
        assert package.main() == 2
    text = caplog.text
    assert "TEAMS_APP_ID: must be a GUID" in text
    assert "MicrosoftAppId: Field required" in text
    assert "PRIVACY_URL: must be an https:// address" in text
    assert not (tmp_path / "build").exists()


def test_message_reads_are_asked_per_team_and_chat_not_tenant_wide(
    built: zipfile.ZipFile,
) -> None:
    """Least privilege: whoever installs the app grants reading its own team's channel and
    its own chats (resource-specific consent), tied to the bot's app registration."""
    manifest = json.loads(built.read("manifest.json"))
    assert manifest["webApplicationInfo"]["id"] == BOT_ID
    granted = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert granted == [
        {"name": "ChannelMessage.Read.Group", "type": "Application"},
        {"name": "ChatMessage.Read.Chat", "type": "Application"},
    ]
    assert not any(p["name"].endswith(".All") for p in granted)


def test_the_compose_box_has_the_case_search_and_the_action_on_a_message(
    built: zipfile.ZipFile,
) -> None:
    manifest = json.loads(built.read("manifest.json"))
    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == BOT_ID
    search, action = extension["commands"]
    assert search["id"] == "searchCases" and search["type"] == "query"
    assert search["initialRun"] is True
    assert [p["name"] for p in search["parameters"]] == ["query"]
    assert action["id"] == "handOffCase" and action["type"] == "action"
    assert action["context"] == ["message"] and action["fetchTask"] is True
    # No case system configured (the shipped file): no links to unfurl.
    assert "messageHandlers" not in extension


def test_a_case_systems_host_is_registered_for_link_unfurling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["case_system"] = {"url_template": "https://Support.Example.com/cases/{case}"}
    config = tmp_path / "handoff.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    for name, value in {**ENV, "HANDOFF_CONFIG": str(config)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert package.main() == 0
    manifest = json.loads(
        zipfile.ZipFile(tmp_path / "build" / "appPackage.zip").read("manifest.json")
    )
    errors = list(manifest_validator().iter_errors(manifest))
    assert errors == [], errors[0].message if errors else ""
    [extension] = manifest["composeExtensions"]
    assert extension["messageHandlers"] == [
        {"type": "link", "value": {"domains": ["support.example.com"]}}
    ]


def test_a_wrong_process_file_stops_the_build_naming_what_to_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    data = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    data["case_system"] = {"url_template": "support.example.com/cases"}
    config = tmp_path / "handoff.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    for name, value in {**ENV, "HANDOFF_CONFIG": str(config)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.ERROR):
        assert package.main() == 2
    assert "case_system.url_template" in caplog.text and "is not a web address" in caplog.text
    assert not (tmp_path / "build").exists()
