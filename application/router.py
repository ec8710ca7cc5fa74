"""The one table of what people can type and submit: each command with how it is written, its
line in `help` and its entry in Teams' command menu (the manifest); each card form. `help`, the
manifest's command lists, the dispatch and the test of what counts as a command written exactly
are all read from here. The use cases are bound to the table's names in application/assembly.py,
and a Router whose bindings and table disagree refuses to be built.

The handoff dialog (`handoff`) and the card buttons (application/transfers.py, the escalation
decisions) have their own ways in at the edge; they are listed here for help and the menu."""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cards.long_running_card import CHAT_OWNERS
from cards.oof_card import OOF_FORM
from i18n import N_, NC_, _, current, translations
from i18n.formats import listing
from i18n.languages import LANGUAGES

from .request import Reply, Request, UseCase

_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    args: tuple[str, ...]
    text: str


def parse_command(text: str | None) -> ParsedCommand:
    """The first word is the command (case-insensitive, a leading '/' allowed); the rest
    are its arguments. Mentions and markup Teams leaves in the text are dropped."""
    cleaned = html.unescape(_TAG.sub(" ", _AT_TAG.sub(" ", text or "")))
    words = cleaned.split()
    if not words:
        return ParsedCommand(name="", args=(), text="")
    name = english_command(words[0].lstrip("/").casefold())
    return ParsedCommand(name=name, args=tuple(words[1:]), text=" ".join(words))


PERSONAL = "personal"
TEAM = "team"
GROUP_CHAT = "groupChat"
EVERYWHERE = (PERSONAL, TEAM, GROUP_CHAT)

FormUseCase = Callable[[Request, dict[str, Any]], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    name: str
    # The kind of each argument ("?" optional, "*" any words to the end): a message is taken
    # for this command only when written so; anything else may be an answer to a question.
    shape: tuple[str, ...]
    # Its line in `help`, marked N_() for the catalogs and translated when help is shown.
    help: str
    # Teams' command menu: its description there and where it is listed ("" and (): not).
    # The manifest is built once, in English, so the menu is not translated.
    menu: str = ""
    scopes: tuple[str, ...] = ()
    # Only shows something: answered mid-dialog without disturbing it.
    read_only: bool = False


COMMANDS: tuple[Command, ...] = (
    Command(
        "handoff",
        ("case?",),
        N_(
            "**handoff** [case number] — hand a case to the next engineer or region: I ask the "
            "questions, check the notes, and give you the title, the DM e-mail, the notes text and "
            "a message for the customer; its card goes to the Case Transfer channel. In a handoff, "
            "**back** goes one step back and **cancel** stops."
        ),
        "Hand a case to the next engineer or region",
        (PERSONAL,),
    ),
    Command(
        "status",
        ("case?",),
        N_("**status** <case number> — where a case's handoff stands, with its history."),
        "Where a case's handoff stands: status <case>",
        EVERYWHERE,
        read_only=True,
    ),
    Command(
        "list",
        ("region?",),
        N_("**list** [region] — open handoffs, oldest first."),
        "Open handoffs, oldest first: list [region]",
        (PERSONAL, TEAM),
        read_only=True,
    ),
    Command(
        "mine",
        (),
        N_("**mine** — handoffs you requested or took."),
        "Handoffs you requested or took",
        (PERSONAL, TEAM),
        read_only=True,
    ),
    Command(
        "agenda",
        ("region?",),
        N_("**agenda** [region] — what the region's next handoff meeting must cover."),
        "What the next handoff meeting must cover",
        (PERSONAL, TEAM),
        read_only=True,
    ),
    Command(
        "escalate",
        ("case", "technical?"),
        N_(
            "**escalate** <case> — ask the Team Leaders to approve an escalation to the vendor, "
            "once the L1/L2 steps and their logs are in the notes; **escalate** <case> "
            "**technical** takes the case one technical level up (L2, SME, TL, TM, leadership) "
            "and records it."
        ),
        "Ask the Team Leaders to approve an escalation",
        (PERSONAL,),
    ),
    Command(
        "oof",
        (),
        N_(
            "**oof** — plan time away: warm handoffs for your critical cases, the list for your "
            "Team Leader, your automatic-reply text, and a reminder to take the cases back."
        ),
        "Plan time away: handoffs, TA list, auto-reply",
        (PERSONAL,),
    ),
    Command(
        "insights",
        ("period*",),
        N_(
            "**insights** [region] [7d | 30d | this week] — how well handoffs work: how many, "
            "time to accept by route and severity, bounces, hops, critical cases waiting for an "
            "owner, notes refused; the last 7 days unless you name a period. **insights export** "
            "[region] [period] sends the rows as a CSV file in our personal chat."
        ),
        "How well handoffs work: insights [region] [7d]",
        (PERSONAL, TEAM),
        read_only=True,
    ),
    Command(
        "shifts",
        (),
        N_(
            "**shifts** — who is on shift now, and each region's next shift and handoff meeting, "
            "in your time zone."
        ),
        "Who is on shift now; next shifts and meetings",
        EVERYWHERE,
        read_only=True,
    ),
    Command(
        "settings",
        ("setting?", "words*"),
        N_(
            "**settings** [region EMEA | zone Europe/Berlin | hours 09:00-17:30 | "
            "language Deutsch | mute | unmute] — what I know about you; before your shift ends I "
            "remind you of your critical cases. "
            "Leads: **settings digest off** (or **on**) for the weekly insights in the channel."
        ),
        "Your region, time zone, hours, language and reminders",
        (PERSONAL,),
    ),
    Command(
        "setup",
        (),
        N_("**setup** — in a channel: post handoff cards here (the Case Transfer channel)."),
        "Post handoff cards in this channel",
        (TEAM,),
    ),
    Command(
        "longrunning",
        ("case", "words*"),
        N_(
            "**longrunning** <case> [why] — whether a 24x7 case is long-running and who owned it "
            "in each region; with a reason (e.g. the customer works in two time zones), flag it; "
            "**longrunning** <case> **chat** makes the group chat of its regional owners."
        ),
        "Long-running case: status, flag, group chat",
        (PERSONAL, TEAM),
    ),
    Command(
        "shiftend",
        ("words*",),
        N_(
            "**shiftend** <summary> — in a long-running case's group chat: hand the case to the "
            "next region's owner."
        ),
        "End your shift in a long-running case's chat",
        (GROUP_CHAT,),
    ),
    # For Team Leaders and admins, who learn of them from the README: not in help or the menu.
    Command("audit", (), ""),
    Command("outbox", ("words*",), ""),
    Command("help", (), N_("**help** — this message."), "What the bot can do", EVERYWHERE, True),
)

BY_NAME: Mapping[str, Command] = {command.name: command for command in COMMANDS}
# Answered by the handoff dialog at the edge, not by a use case of this table.
DIALOG_COMMANDS = frozenset({"handoff"})


# Besides its English word, which always works, each command may have a word of its own in
# each language. The commands for leads and admins keep their English words only.
# Translators: the word a person may type for this command in your language, besides the
# English one: one word, no spaces, not the English word of another command. Leave it as the
# English word when no word of your language is better.
_OWN_WORDS = (
    NC_("command", "handoff"),
    NC_("command", "status"),
    NC_("command", "list"),
    NC_("command", "mine"),
    NC_("command", "agenda"),
    NC_("command", "escalate"),
    NC_("command", "oof"),
    NC_("command", "insights"),
    NC_("command", "shifts"),
    NC_("command", "settings"),
    NC_("command", "longrunning"),
    NC_("command", "shiftend"),
    NC_("command", "help"),
)


# Each language's words as its catalog gave them (read again only for another catalog).
_OWN_WORDS_READ: dict[str, tuple[object, dict[str, str]]] = {}


def own_words(language: str) -> dict[str, str]:
    """A language's own command words: {word: the English command}."""
    catalog = translations(language)
    cached = _OWN_WORDS_READ.get(language)
    if cached is not None and cached[0] is catalog:
        return cached[1]
    found: dict[str, str] = {}
    for name in _OWN_WORDS:
        word = _folded(catalog.pgettext("command", name).strip())
        if word and word != name and word not in BY_NAME and " " not in word:
            found[word] = name
    _OWN_WORDS_READ[language] = (catalog, found)
    return found


def _folded(word: str) -> str:
    """A word as it is compared: any case, with or without its accents (`parametres` for
    `paramètres`, as people often type in chat); a script's own marks are kept whole."""
    decomposed = unicodedata.normalize("NFD", word.casefold())
    latin = "".join(c for c in decomposed if not unicodedata.combining(c) or c > "\u036f")
    return unicodedata.normalize("NFC", latin)


def english_command(word: str) -> str:
    """The command a typed word stands for: its English word, else a word of the reader's
    language, else of any language we speak (a German typing `hilfe` in an English Teams)."""
    if word in BY_NAME or not word:
        return word
    folded = _folded(word)
    for language in (current(), *LANGUAGES):
        name = own_words(language).get(folded)
        if name is not None:
            return name
    return word


def help_text() -> str:
    """`help` in the language of the turn: the table's lines, marked where written, are
    translated here, when someone asks; with the language's own command words."""
    return _help_text_in(current(), translations(current()))


@functools.lru_cache(maxsize=32)
def _help_text_in(_language: str, _catalog: object) -> str:
    # The same words each time for a language and its catalog, and asked for on every turn
    # of a newcomer: written once per language.
    lines = "\n".join(f"- {_(command.help)}" for command in COMMANDS if command.help)
    # Translators: {commands} is one line per command: "- **status** <case number> — …".
    text = _(
        "**What I can do**\n\n{commands}\n\n"
        "Chat with me here in a personal chat, or @mention me in a channel."
    ).format(commands=lines)
    words = own_words(current())
    if not words:
        return text
    pairs = [f"**{word}** = {name}" for word, name in words.items()]
    # Translators: {words} lists your language's own command words: "**hilfe** = help, …".
    return (
        text
        + "\n\n"
        + _("In your language you may also type: {words}.").format(words=listing(pairs))
    )


def command_lists() -> list[dict[str, object]]:
    """The manifest's `commandLists`: one list per scope (Teams allows twelve in each)."""
    lists: list[dict[str, object]] = []
    for scope in EVERYWHERE:
        commands = [
            {"title": command.name, "description": command.menu}
            for command in COMMANDS
            if scope in command.scopes
        ]
        lists.append({"scopes": [scope], "commands": commands})
    return lists


_PATTERNS = {
    "case": re.compile(r"^\d[\d-]{5,24}$"),
    "region": re.compile(r"^[A-Za-z]{2,8}$"),
    "technical": re.compile(r"^technical$", re.IGNORECASE),
    "setting": re.compile(r"^(?:region|zone|hours|mute|unmute|language|digest)$", re.IGNORECASE),
    "words": re.compile(r"."),
    # `insights`: a region as written in the data file (EMEA), a number of days (30d), or
    # the words of "this week"; anything else, mid-handoff, is not taken for the command.
    "period": re.compile(r"^(?:[A-Z]{2,8}|\d{1,4}[dD]|[Tt]his|[Ww]eek|[Ee]xport)$"),
}


def written_exactly(name: str, args: Iterable[str], text: str | None) -> bool:
    """Whether a message is a command written as the command is: one line, each argument of
    its kind. "Status of the cluster: healthy" or "Help from PG is on the way" is not."""
    command = BY_NAME.get(name)
    if command is None or "\n" in (text or "").strip():
        return False
    rest = list(args)
    for position, kind in enumerate(command.shape):
        pattern = _PATTERNS[kind.rstrip("?*")]
        if kind.endswith("*"):
            return all(pattern.match(arg) for arg in rest)
        if not rest:
            return all(k.endswith(("?", "*")) for k in command.shape[position:])
        if not pattern.match(rest[0]):
            return False
        rest.pop(0)
    return not rest


def read_only(name: str, args: tuple[str, ...], text: str | None) -> bool:
    """Whether a message typed mid-dialog is a read-only command, exactly as written; a pasted
    note that starts with "Status" or "List of ..." stays a note. Bare `settings` shows them."""
    command = BY_NAME.get(name)
    showing = command is not None and (command.read_only or (name == "settings" and not args))
    return showing and written_exactly(name, args, text)


@dataclass(frozen=True)
class Router:
    """The dispatch: every command of the table but the dialog's has a use case, every form a
    use case; a table and use cases that disagree stop start-up rather than a user's turn."""

    commands: Mapping[str, UseCase]
    forms: Mapping[str, FormUseCase]

    def __post_init__(self) -> None:
        expected = {command.name for command in COMMANDS} - DIALOG_COMMANDS
        missing, unknown = expected - set(self.commands), set(self.commands) - expected
        if missing or unknown:
            raise ValueError(f"commands without a use case: {missing}; not in the table: {unknown}")
        if set(self.forms) != FORMS:
            raise ValueError(f"forms {sorted(self.forms)} do not match the table {sorted(FORMS)}")

    def command(self, name: str) -> UseCase | None:
        return self.commands.get(name)

    def form(self, name: object) -> FormUseCase | None:
        return self.forms.get(str(name))


async def _help(_request: Request) -> Reply:
    return [help_text()]


HELP: UseCase = _help
# Cards that come back with a `command` (not a handoff dialog step, not a button). The
# restart card's form is the dialog's own, answered at the edge.
FORMS = frozenset({OOF_FORM, CHAT_OWNERS})
