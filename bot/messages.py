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
    "- **handoff** [case number] — hand a case to the next engineer or region: I ask the "
    "questions, check the notes, and give you the title, the DM e-mail, the notes text and "
    "a message for the customer. In a handoff, **back** goes one step back and **cancel** "
    "stops.\n"
    "- **help** — this message.\n\n"
    "Chat with me here in a personal chat, or @mention me in a channel."
)

HANDOFF_IN_PERSONAL_CHAT = (
    "Handoffs are written in a personal chat with me, so your notes stay yours until you "
    "send them. Open a chat with me and type **handoff**."
)

IN_A_HANDOFF = (
    "You are in the middle of a handoff and your answers are kept: carry on with the last "
    "card, type **back** to go one step back, or **cancel** to stop."
)

HANDOFF_RESTARTED = "Starting a new handoff; the one in progress is dropped."

STALE_FORM = (
    "That form belongs to a handoff that has already ended. Type **handoff** to start a new one."
)


def not_a_case_number(text: str) -> str:
    shown = text if len(text) <= 40 else text[:40] + "…"
    return (
        f"“{shown}” is not a case number: use its 6 to 20 digits, "
        "e.g. **handoff 2311230040001234**."
    )


SORRY = "Sorry, something went wrong on my side and I could not finish that. Please try again."


def unknown_command(name: str) -> str:
    shown = name if len(name) <= 40 else name[:40] + "…"
    return f"I don't know “{shown}”. Type **help** to see what I can do."


def empty_message() -> str:
    return "I didn't catch a command. Type **help** to see what I can do."
