"""What the bot says, in one place so wording stays consistent."""

from __future__ import annotations

WELCOME = (
    "Hi, I'm the handoff bot. I carry support cases from one engineer to the next — "
    "across shifts, regions and time off — so no fact and no promise to a customer is lost.\n\n"
    "Type **help** to see what I can do."
)

TEAM_WELCOME = (
    "Hi team, I'm the handoff bot. I post handoff cards here so the receiving region can "
    "take cases over, and answer questions about where a case stands. "
    "@mention me with **help** to see what I can do."
)

HELP = (
    "**What I can do**\n\n"
    "- **help** — this message.\n\n"
    "Chat with me here in a personal chat, or @mention me in a channel. "
    "More commands arrive as the handoff features land."
)

SORRY = "Sorry, something went wrong on my side and I could not finish that. Please try again."


def unknown_command(name: str) -> str:
    shown = name if len(name) <= 40 else name[:40] + "…"
    return f"I don't know “{shown}”. Type **help** to see what I can do."


def empty_message() -> str:
    return "I didn't catch a command. Type **help** to see what I can do."
