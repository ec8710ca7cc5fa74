"""“Hand off this case” on a message (the compose box's action on a message, HAND_OFF_COMMAND):
the message's text read for its case number and for notes in the team's template
(handoff/notes/parser.py); then the handoff dialog begins in the person's personal chat with
the case and those notes filled in, sent from the outbox (OutboxKind.OPEN_HANDOFF) like every
message the bot starts, and the person is told where to carry on.

Teams first shows a dialog (`ask`) with what the message gives, where the person confirms the
case number or types the one the message lacks; `open` then opens the handoff. Both ask what
`handoff` asks: whether the person may request a handoff (the members of the Case Transfer team
and the leads), so a stranger is told why and nothing is opened; and both need the person's
personal chat with the bot, where the dialog runs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import uuid4

from cards.compose_cards import CASE_INPUT, hand_off_form
from cards.notes_form import note_labels
from handoff import effects
from handoff.effects import OutboxKind
from handoff.models import Person, case_from_url, case_number_from, case_number_in
from handoff.notes.parser import parse_notes
from handoff.ports import Clock, ConversationStore, Outbox, OutboxItem
from i18n import _, formats
from outbox.failures import PermanentFailure
from outbox.worker import Handler, SendJournal

from .. import messages
from ..access import RequestAccess
from ..outbox_steps import reader_language
from ..outbox_steps.sender import personal_chat
from ..request import Card, Request, Said

log = logging.getLogger(__name__)

HAND_OFF_COMMAND = "handOffCase"
# The manifest's parameter, for clients that show the command's form from the manifest: the
# same name as the dialog's box, so both come back alike.
CASE_PARAMETER = CASE_INPUT
# Teams caps a message near 28 KB; the dialog's paste box takes far less than this.
MAX_MESSAGE_CHARS = 20_000
_LINK = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def no_personal_chat() -> str:
    return _(
        "I hand off cases in our personal chat, and we have none yet: open a chat with me (find "
        "me under Chat, or in Apps), say hi, then choose **Hand off this case** on the message "
        "again."
    )


def opened(case: str | None, noted: list[str]) -> str:
    """Where to carry on, and what the message gave: the notes of the template it fills in
    (as the notes form names them), else its whole text as the summary."""
    notes = formats.listing(noted)
    if case is None and noted:
        # Translators: {notes} lists the names of the notes' fields the message filled in.
        return _(
            "I opened a handoff in our personal chat, with its notes ({notes}) from the message. "
            "The message names no case number, so the form there asks for it first: carry on "
            "there."
        ).format(notes=notes)
    if case is None:
        return _(
            "I opened a handoff in our personal chat, with its text as the summary from the "
            "message. The message names no case number, so the form there asks for it first: "
            "carry on there."
        )
    if noted:
        # Translators: {notes} lists the names of the notes' fields the message filled in.
        return _(
            "I opened the handoff of case {case} in our personal chat, with its notes ({notes}) "
            "from the message: carry on there."
        ).format(case=case, notes=notes)
    return _(
        "I opened the handoff of case {case} in our personal chat, with its text as the summary "
        "from the message: carry on there."
    ).format(case=case)


def started_from_message(case: str | None) -> str:
    """Said in the personal chat before the dialog's first question."""
    if not case:
        return _(
            "Here is the handoff you started from a message. Its notes are filled in on the "
            "notes card: check them when you get there."
        )
    return _(
        "Here is the handoff you started from a message about case {case}. Its notes are "
        "filled in on the notes card: check them when you get there."
    ).format(case=case)


def finish_the_open_one_first(case: str | None) -> str:
    if not case:
        return _(
            "You are in the middle of a handoff here, so I did not start the one from the "
            "message: finish it, or type **cancel**, then choose **Hand off this case** on the "
            "message again."
        )
    return _(
        "You are in the middle of a handoff of case {case} here, so I did not start the one "
        "from the message: finish it, or type **cancel**, then choose **Hand off this case** on "
        "the message again."
    ).format(case=case)


@dataclass(frozen=True)
class HandoffDraft:
    """What the dialog begins with: whose it is, the case (None: the dialog asks), the
    message's text, the zone of the person's Teams client (the dialog shows times in it), and
    the key of the outbox item that begins it (a retry of the item finds its dialog begun)."""

    person: Person
    case: str | None
    text: str
    zone: str | None = None
    key: str = ""

    def payload(self) -> dict[str, Any]:
        return {
            "case": self.case or "",
            "text": self.text,
            "zone": self.zone or "",
            "key": self.key,
        }

    @classmethod
    def of(cls, payload: dict[str, Any]) -> HandoffDraft:
        return cls(
            person=Person.model_validate(payload["person"]),
            case=case_number_from(str(payload.get("case") or "")),
            text=str(payload.get("text") or ""),
            zone=str(payload.get("zone") or "") or None,
            key=str(payload.get("key") or ""),
        )


class Store(ConversationStore, Outbox, Protocol):
    pass


def noted(text: str) -> list[str]:
    """The fields of the notes template the text fills in, as the notes form labels them."""
    found = parse_notes(text).found()
    return [note_labels().get(name, name.replace("_", " ").capitalize()) for name in found]


class HandOffMessage:
    def __init__(
        self,
        store: Store,
        access: RequestAccess,
        clock: Clock,
        wake_outbox: Callable[[], None] = lambda: None,
        case_url_template: str | None = None,
    ) -> None:
        self._store = store
        self._access = access
        self._clock = clock
        self._wake_outbox = wake_outbox
        self._case_url_template = case_url_template

    def case_in(self, text: str) -> str | None:
        """The case the message names: by its number, else by a link to its page."""
        number = case_number_in(text)
        template = self._case_url_template
        if number is not None or not template:
            return number
        found = (case_from_url(template, link.rstrip(".,;:)]")) for link in _LINK.findall(text))
        return next((case for case in found if case is not None), None)

    async def ask(self, request: Request, text: str) -> Said:
        """The dialog Teams shows first: the case number found (or a box for it) and what of
        the notes the message gives; or why the person cannot hand off from here."""
        refused = await self._refused(request)
        if refused is not None:
            return refused
        text = text[:MAX_MESSAGE_CHARS]
        return Card(hand_off_form(self.case_in(text), noted(text)))

    async def open(self, request: Request, text: str, typed_case: str = "") -> Said:
        """Opens the handoff in the personal chat and says so; the dialog again when the case
        number typed in it is not one."""
        refused = await self._refused(request)
        if refused is not None:
            return refused
        text = text[:MAX_MESSAGE_CHARS]
        typed = typed_case.strip()
        case = case_number_from(typed) if typed else self.case_in(text)
        if typed and case is None:
            form = hand_off_form(None, noted(text), [messages.not_a_case_number(typed)])
            return Card(form)
        key = uuid4().hex
        draft = HandoffDraft(request.actor, case, text, request.client_zone, key)
        now = self._clock.now()
        await self._store.enqueue_message(
            effects.open_handoff(request.actor, draft.payload(), key, now)
        )
        self._wake_outbox()
        log.info("handoff opened from a message", extra={"case": case or "", "typed": bool(typed)})
        return opened(case, noted(text))

    async def _refused(self, request: Request) -> str | None:
        refusal = await self._access.request(request)
        if refusal is not None:
            return refusal
        if await personal_chat(self._store, request.actor) is None:
            return no_personal_chat()
        return None


class DialogStarter(Protocol):
    async def start(self, reference: dict[str, Any], draft: HandoffDraft) -> None:
        """Begins the handoff dialog of `draft` in the conversation of `reference` (the edge's
        teams/compose_handlers.py); raises outbox.failures.SendFailed when Teams refuses."""


class OpenHandoffStep:
    """The outbox's OPEN_HANDOFF: the dialog begun in the person's personal chat. Its sends are
    not journaled: a crash in the middle may show the first question twice, which the dialog
    takes in its stride (an answer to either card moves it on)."""

    def __init__(self, store: reader_language.Store, starter: DialogStarter) -> None:
        self._store = store
        self._starter = starter

    def table(self) -> dict[str, Handler]:
        return {OutboxKind.OPEN_HANDOFF: self.open}

    async def open(self, item: OutboxItem, journal: SendJournal | None = None) -> None:
        draft = HandoffDraft.of(item.payload)
        address = await personal_chat(self._store, draft.person)
        if address is None:
            raise PermanentFailure(
                f"no personal chat with {draft.person.name or draft.person.id}: they have not "
                "installed the bot"
            )
        # The bot's own turn in the person's chat: it speaks the person's language.
        async with reader_language.speaking_to(self._store, draft.person, address):
            await self._starter.start(address.reference, draft)
