"""`make package`: builds build/appPackage.zip (manifest.json and the two icons) from
settings and the process file (HANDOFF_CONFIG: its case_system.url_template gives the host of
the case links Teams unfurls), for uploading the bot to Teams. Refuses, naming what is missing,
rather than build a package Teams would reject."""

from __future__ import annotations

import json
import logging
import re
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from application.compose.hand_off import CASE_PARAMETER, HAND_OFF_COMMAND
from application.compose.search import QUERY_PARAMETER, SEARCH_COMMAND
from application.router import command_lists
from config.process import ConfigError, load_process_config
from config.settings import DEFAULT_CONFIG_PATH, describe_errors
from graph.client import CHANNEL_MESSAGE_RSC, CHAT_MESSAGE_RSC

log = logging.getLogger("handoff.package")

HERE = Path(__file__).parent
SCHEMA_URL = "https://developer.microsoft.com/json-schemas/teams/v1.25/MicrosoftTeams.schema.json"
# Granted by whoever installs the app in a team or chat, for that team or chat only, instead
# of the tenant-wide ChannelMessage.Read.All and Chat.Read.All: reading back whether a post
# cut off by a timeout landed (outbox/landed_sends.py) in the Case Transfer channel and in
# the bot's group chats. With them Teams also delivers messages that do not @mention the
# bot there; teams/middleware.py's AddressedOnly drops those.
RESOURCE_SPECIFIC_PERMISSIONS = (CHANNEL_MESSAGE_RSC, CHAT_MESSAGE_RSC)
RSC_RESOURCE = "https://RscPermission"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _https(value: str) -> str:
    if not value.startswith("https://"):
        raise ValueError("must be an https:// address")
    return value


class PackageSettings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    teams_app_id: str = Field(alias="TEAMS_APP_ID")
    bot_id: str = Field(alias="MicrosoftAppId")
    developer_name: str = Field(alias="DEVELOPER_NAME", min_length=1, max_length=32)
    developer_website: str = Field(alias="DEVELOPER_WEBSITE")
    privacy_url: str = Field(alias="PRIVACY_URL")
    terms_url: str = Field(alias="TERMS_URL")
    bot_domain: str = Field("", alias="BOT_DOMAIN")
    handoff_config: Path = Field(DEFAULT_CONFIG_PATH, alias="HANDOFF_CONFIG")
    app_version: str = Field(default_factory=lambda: version("handoff-bot"), alias="APP_VERSION")

    @field_validator("teams_app_id", "bot_id")
    @classmethod
    def _guid(cls, value: str) -> str:
        if not _GUID.match(value):
            raise ValueError("must be a GUID such as 00000000-0000-0000-0000-000000000000")
        return value

    _urls = field_validator("developer_website", "privacy_url", "terms_url")(
        lambda cls, value: _https(value)
    )


def compose_extension(bot_id: str, link_domain: str = "") -> dict[str, Any]:
    """The compose box (application/compose/): finding a case to insert its card, "Hand off
    this case" on a message, and, with a case system's host, unfurling links to its cases."""
    extension: dict[str, Any] = {
        "botId": bot_id,
        "composeExtensionType": "botBased",
        "commands": [
            {
                "id": SEARCH_COMMAND,
                "type": "query",
                "title": "Find a case",
                "description": "Insert a case's handoff card: type its number or title words",
                "context": ["compose", "commandBox"],
                # Opened with nothing typed, it lists the person's own handoffs.
                "initialRun": True,
                "parameters": [
                    {
                        "name": QUERY_PARAMETER,
                        "title": "Case number or title",
                        "description": "Part of the case number, or words of the case's title",
                        "inputType": "text",
                    }
                ],
            },
            {
                "id": HAND_OFF_COMMAND,
                "type": "action",
                "title": "Hand off this case",
                "description": "Start a handoff of the case this message is about, notes filled in",
                "context": ["message"],
                # The dialog is the bot's Adaptive Card; the parameter is for clients that
                # draw the form from the manifest instead.
                "fetchTask": True,
                "parameters": [
                    {
                        "name": CASE_PARAMETER,
                        "title": "Case number",
                        "description": "The case, if the message does not name it",
                        "inputType": "text",
                    }
                ],
            },
        ],
    }
    if link_domain:
        extension["messageHandlers"] = [{"type": "link", "value": {"domains": [link_domain]}}]
    return extension


def manifest(settings: PackageSettings, link_domain: str = "") -> dict[str, Any]:
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": "1.25",
        "version": settings.app_version,
        "id": settings.teams_app_id,
        "developer": {
            "name": settings.developer_name,
            "websiteUrl": settings.developer_website,
            "privacyUrl": settings.privacy_url,
            "termsOfUseUrl": settings.terms_url,
        },
        "name": {"short": "Handoff", "full": "Handoff: follow-the-sun case handoffs"},
        "description": {
            "short": "Hand support cases to the next engineer without losing a fact.",
            "full": (
                "Leads support engineers through a case handoff across shifts, regions and "
                "time off, posts it to the Case Transfer channel for the receiving region to "
                "accept, reminds people at shift end, and keeps long-running 24x7 cases in a "
                "group chat of their regional owners."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#2463EB",
        "bots": [
            {
                "botId": settings.bot_id,
                "scopes": ["personal", "team", "groupChat"],
                # `insights export` sends its CSV as a file in the personal chat.
                "supportsFiles": True,
                "isNotificationOnly": False,
                "commandLists": command_lists(),
            }
        ],
        "composeExtensions": [compose_extension(settings.bot_id, link_domain)],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [settings.bot_domain] if settings.bot_domain else [],
        # Resource-specific consent needs the app registration named here; the resource is
        # unused by RSC but must be present.
        "webApplicationInfo": {"id": settings.bot_id, "resource": RSC_RESOURCE},
        "authorization": {
            "permissions": {
                "resourceSpecific": [
                    {"name": name, "type": "Application"} for name in RESOURCE_SPECIFIC_PERMISSIONS
                ]
            }
        },
    }


def build(settings: PackageSettings, target: Path, link_domain: str = "") -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as package:
        content = manifest(settings, link_domain)
        package.writestr("manifest.json", json.dumps(content, indent=2))
        package.write(HERE / "color.png", "color.png")
        package.write(HERE / "outline.png", "outline.png")
    return target


def main() -> int:
    logging.basicConfig(level="INFO", format="%(message)s")
    try:
        settings = PackageSettings()
    except ValidationError as error:
        log.error("cannot build the app package. %s", describe_errors(error, PackageSettings))
        return 2
    try:
        process = load_process_config(settings.handoff_config)
    except ConfigError as error:
        log.error("cannot build the app package: %s", error)
        return 2
    domain = process.case_system.link_domain
    target = build(settings, Path("build") / "appPackage.zip", domain)
    log.info(
        "built %s (app %s, bot %s, case links unfurled: %s)",
        target,
        settings.teams_app_id,
        settings.bot_id,
        domain or "none",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
