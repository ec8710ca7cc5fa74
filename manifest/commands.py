"""The commands the bot answers, as Teams lists them in its command menu (the manifest).
tests/manifest checks that each one is answered."""

from __future__ import annotations

PERSONAL = "personal"
TEAM = "team"
GROUP_CHAT = "groupChat"

# (command, description, scopes); the manifest allows twelve per scope.
COMMANDS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("handoff", "Hand a case to the next engineer or region", (PERSONAL,)),
    ("status", "Where a case's handoff stands: status <case>", (PERSONAL, TEAM, GROUP_CHAT)),
    ("list", "Open handoffs, oldest first: list [region]", (PERSONAL, TEAM)),
    ("mine", "Handoffs you requested or took", (PERSONAL, TEAM)),
    ("agenda", "What the next handoff meeting must cover", (PERSONAL, TEAM)),
    ("shifts", "Who is on shift now; next shifts and meetings", (PERSONAL, TEAM, GROUP_CHAT)),
    ("oof", "Plan time away: handoffs, TA list, auto-reply", (PERSONAL,)),
    ("escalate", "Ask the Team Leaders to approve an escalation", (PERSONAL,)),
    ("settings", "Your region, time zone, hours and reminders", (PERSONAL,)),
    ("longrunning", "Long-running case: status, flag, group chat", (PERSONAL, TEAM)),
    ("setup", "Post handoff cards in this channel", (TEAM,)),
    ("shiftend", "End your shift in a long-running case's chat", (GROUP_CHAT,)),
    ("help", "What the bot can do", (PERSONAL, TEAM, GROUP_CHAT)),
)


def command_lists() -> list[dict[str, object]]:
    """The manifest's `commandLists`: one list per scope."""
    lists = []
    for scope in (PERSONAL, TEAM, GROUP_CHAT):
        commands = [
            {"title": name, "description": description}
            for name, description, scopes in COMMANDS
            if scope in scopes
        ]
        lists.append({"scopes": [scope], "commands": commands})
    return lists
