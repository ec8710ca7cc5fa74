"""What the bot says in any conversation: welcomes, commands it did not understand, the
handoff dialog's detours, cards that cannot be acted on, and the handoffs waiting for people."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

# User-written text (and display names) echoed here goes through safe(): a message that says
# back "[our wiki](https://elsewhere)" or "<at>Boss</at>" must not turn it into a link or a
# mention.
from cards.elements import safe
from handoff.durations import in_words
from i18n import _, ngettext


def welcome() -> str:
    return _(
        "Hi, I'm the handoff bot. I carry support cases from one engineer to the next — "
        "across shifts, regions and time off — so no fact and no promise to a customer is lost.\n\n"
        "Type **help** to see what I can do."
    )


def group_chat_welcome() -> str:
    return _(
        "Hi, I'm the handoff bot. In a long-running case's own chat I post the case's summary, "
        "remind each regional owner near the end of their shift, and **shiftend** <summary> hands "
        "the case to the next region's owner; @mention me with **status** <case> for where it "
        "stands, or **help**."
    )


def team_welcome() -> str:
    return _(
        "Hi team, I'm the handoff bot. I post handoff cards here so the receiving region can "
        "take cases over, and answer questions about where a case stands. "
        "@mention me with **help** to see what I can do."
    )


def status_usage() -> str:
    return _("Tell me the case: **status 2311230040001234**.")


def setup_in_channel() -> str:
    return _("Run **setup** as an @mention in the channel where handoff cards should go.")


def setup_done(posted: int) -> str:
    if not posted:
        return _("This channel is now the Case Transfer channel: handoff cards appear here.")
    return ngettext(
        "This channel is now the Case Transfer channel: handoff cards appear here. Posting the "
        "{count} open handoff that was waiting.",
        "This channel is now the Case Transfer channel: handoff cards appear here. Posting the "
        "{count} open handoffs that were waiting.",
        posted,
    ).format(count=posted)


def no_handoff_for(number: str) -> str:
    return _("I know no handoff of case {number}. Type **list** to see the open ones.").format(
        number=number
    )


def unknown_region(word: str, regions: tuple[str, ...]) -> str:
    # Translators: {regions} are the region codes one may use, e.g. "EMEA, US, APAC".
    return _("“{word}” is not a region; use one of {regions}.").format(
        word=safe(word[:20]), regions=", ".join(regions)
    )


def no_meeting(region: str) -> str:
    return _("{region} has no handoff meeting in the next two weeks.").format(region=region)


def handoff_in_personal_chat() -> str:
    return _(
        "Handoffs are written in a personal chat with me, so your notes stay yours until you "
        "send them. Open a chat with me and type **handoff**."
    )


def in_a_handoff() -> str:
    return _(
        "You are in the middle of a handoff and your answers are kept: carry on with the last "
        "card, type **back** to go one step back, or **cancel** to stop."
    )


def handoff_restarted() -> str:
    return _("Starting a new handoff; the one in progress is dropped.")


def restart_card_outdated() -> str:
    return _(
        "That card was about an earlier handoff; the one in progress is kept. Here is where you "
        "were."
    )


def already_handing_off(number: str) -> str:
    return _("You are handing off case {number} already; here is where you were.").format(
        number=number
    )


def stale_form() -> str:
    return _(
        "That form belongs to a handoff that has already ended. Type **handoff** to start a new "
        "one."
    )


def not_a_case_number(text: str) -> str:
    shown = safe(text if len(text) <= 40 else text[:40] + "…")
    return _(
        "“{text}” is not a case number: use its 6 to 20 digits, e.g. **handoff 2311230040001234**."
    ).format(text=shown)


def database_down() -> str:
    return _(
        "I can't reach my database right now, so nothing was changed; what you gave me before "
        "is kept. Please try again in a minute."
    )


def sorry() -> str:
    return _(
        "Sorry, something went wrong on my side and I could not finish that. Please try again."
    )


def unknown_command(name: str) -> str:
    shown = safe(name if len(name) <= 40 else name[:40] + "…")
    return _("I don't know “{command}”. Type **help** to see what I can do.").format(command=shown)


def empty_message() -> str:
    return _("I didn't catch a command. Type **help** to see what I can do.")


def stay_reminder(number: str, waited: timedelta) -> str:
    # Translators: {waited} is a duration, e.g. "2 hours 10 minutes".
    return _(
        "Case {number} has waited {waited} and nobody has accepted it yet. It stays with you "
        "until another engineer takes it over."
    ).format(number=number, waited=in_words(waited))


def stay_smes(number: str, route: str, waited: timedelta) -> str:
    # Translators: {route} is where the case goes, e.g. "EMEA → US"; {waited} a duration.
    return _(
        "The critical handoff of case {number} ({route}) has waited {waited} without an owner."
    ).format(number=number, route=route, waited=in_words(waited))


def undelivered_line(about: str, who: str, why: str) -> str:
    # Translators: a line of a list: what the message was about, for whom, and why it failed.
    return _("{about}, for {person}: {why}").format(about=about, person=safe(who), why=why)


def undelivered(subject: str, lines: Sequence[str]) -> str:
    listed = "\n".join(f"- {line}" for line in lines)
    # Translators: {subject} is what the messages were about, e.g. "case 2311230040001234";
    # {messages} is one line per message.
    return _(
        "Some of my messages about {subject} did not reach the people they were for:\n"
        "{messages}\n\n"
        "Reach them another way (a Teams chat or a call), so that nobody waits for a message "
        "they never got. Once they have installed the bot, a Team Leader or an admin can send "
        "the messages again with **outbox retry** (**outbox** lists them)."
    ).format(subject=subject, messages=listed)


def changed_meanwhile() -> str:
    return _("Someone changed that handoff at the same moment; please try again.")


# -- Who may act on a card (application/access.py) and from where ---------------------------


def forged_card() -> str:
    return _("That card is damaged. Use the buttons of the latest card.")


def button_not_on_card() -> str:
    return _("That button is not on this handoff's card. Use the buttons of the latest card.")


def other_tenant() -> str:
    return _(
        "This bot serves only its own organization, and your message came from another one. "
        "Nothing was done."
    )


def answer_recorded(number: str, question: str) -> str:
    return _(
        "Thanks: your answer to “{question}” is in the notes of case {number}, and its "
        "card asks the receiving engineers again."
    ).format(question=safe(question), number=number)


def which_question(numbers: Sequence[str]) -> str:
    return _(
        "The handoffs of cases {cases} each wait for your answer to a question: "
        "answer each with the box on its question's card, so that no answer lands on the "
        "wrong case."
    ).format(cases=", ".join(numbers))


def take_instead(number: str, meant_for: str) -> str:
    return _(
        "Case {number} is meant for {person}. Take it instead of them? The requester "
        "will be told you took it."
    ).format(number=number, person=safe(meant_for))
