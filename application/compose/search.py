"""Finding a case from the compose box (the `searchCases` command) and unfurling a pasted link
to a case's page (case_system.url_template): the handoffs found come as the case's card, to put
into the message, each with a one-line preview.

A search reads like `list`: open handoffs, and those closed lately (RECENT), for the members of
the Case Transfer team and the leads, where such a list may be shown. With nothing typed (and
when the box opens) it shows the person's own handoffs, as `mine` does. A link unfurls like
`status <case>`: only for whoever may read that case, here; to anyone else it stays a link.
Whatever is found becomes a card in a conversation others read, so it is always the team's
copy of the card (no requester's buttons). Teams calls a chat between two people "personal",
as it does the person's chat with the bot (and a meeting's chat has no kind at all): a
personal conversation counts as the person's own only when it is their chat with the bot;
any other is a chat that others read, where cases are not shown."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Protocol

from cards.compose_cards import THUMBNAIL_CONTENT_TYPE, case_preview, more_found
from cards.elements import CARD_CONTENT_TYPE, Json
from cards.transfer_card import handoff_card
from handoff.access import Viewer
from handoff.models import Handoff, HandoffState, case_from_url
from handoff.ports import (
    Clock,
    ConversationKind,
    ConversationStore,
    HandoffFinder,
    HandoffRepository,
    HandoffSearch,
)
from i18n import _, ngettext

from ..access import RequestAccess
from ..outbox_steps.sender import personal_chat
from ..request import Request

SEARCH_COMMAND = "searchCases"
QUERY_PARAMETER = "query"
RESULTS_LIMIT = 10
# Closed handoffs are found for this long after their last change.
RECENT = timedelta(days=14)
# What of a query is read: the rest cannot narrow a title further.
MAX_WORDS = 8
MAX_WORD_CHARS = 100


def none_of_yours() -> str:
    return _(
        "You have no open handoff, and took none lately. Type a case number, or words of a "
        "case's title, to find one."
    )


def not_a_case_number() -> str:
    return _("A case number has 6 to 20 digits: check the number you typed.")


def nothing_found(query: str) -> str:
    shown = query if len(query) <= 60 else query[:59] + "…"
    # Translators: {query} is what the person typed in the search box.
    return ngettext(
        "No open handoff, and none changed in the last {days} day, matches “{query}”. Type "
        "part of its case number, or words of its title.",
        "No open handoff, and none changed in the last {days} days, matches “{query}”. Type "
        "part of its case number, or words of its title.",
        RECENT.days,
    ).format(days=RECENT.days, query=shown)


@dataclass(frozen=True)
class Found:
    """One result: what it puts into the message, and its line in the list."""

    content_type: str
    content: Json
    preview: Json


@dataclass(frozen=True)
class Results:
    """What the compose box shows: the results, or `said` instead (a refusal, nothing found).
    Neither, for a link: it stays a link."""

    found: tuple[Found, ...] = ()
    said: str | None = None


class Store(HandoffFinder, HandoffRepository, ConversationStore, Protocol):
    pass


def search_terms(query: str) -> tuple[str, tuple[str, ...]]:
    """The digits a case number must hold (the query's numbers, spaces and dashes dropped,
    run together: "2311 2300" is how people copy a long number) and the words a title must
    hold."""
    digits = ""
    words: list[str] = []
    for word in query.split():
        if not word.strip("-"):
            continue
        if word.replace("-", "").isdigit():
            digits += word.replace("-", "")
        elif len(words) < MAX_WORDS:
            words.append(word.lower()[:MAX_WORD_CHARS])
    return digits, tuple(words)


class CaseSearch:
    def __init__(
        self,
        store: Store,
        access: RequestAccess,
        clock: Clock,
        case_url_template: str | None = None,
    ) -> None:
        self._store = store
        self._access = access
        self._clock = clock
        self._case_url_template = case_url_template

    async def search(self, request: Request, query: str) -> Results:
        request = await self._where(request)
        query = " ".join(query.split())
        if not query:
            return await self._own(request)
        refusal = await self._access.see_open(request)
        if refusal is not None:
            return Results(said=refusal)
        digits, words = search_terms(query)
        if len(digits) > 20:
            return Results(said=not_a_case_number())
        handoffs = await self._store.find_handoffs(
            HandoffSearch(
                case_digits=digits,
                words=words,
                changed_since=self._clock.now() - RECENT,
                limit=RESULTS_LIMIT + 1,
            )
        )
        if not handoffs:
            return Results(said=nothing_found(query))
        return self._results(handoffs)

    async def _own(self, request: Request) -> Results:
        """The person's handoffs: those they requested that are still open, then the cases
        they took lately; `mine`'s rule (their own, shown to them or in a team channel)."""
        refusal = await self._access.show_own(request)
        if refusal is not None:
            return Results(said=refusal)
        since = self._clock.now() - RECENT
        mine = [
            handoff
            for handoff in await self._store.involving(request.actor.id, limit=50)
            if handoff.state.is_open
            or (handoff.state is HandoffState.ACCEPTED and handoff.updated_at >= since)
        ]
        if not mine:
            # Nothing of their own: a stranger hears why searching will not help either.
            refusal = await self._access.see_open(request)
            return Results(said=refusal or none_of_yours())
        mine.sort(key=lambda handoff: not handoff.state.is_open)  # stable: newest first within
        return self._results(mine)

    async def unfurl(self, request: Request, url: str) -> Results:
        """The card of the case a pasted link points to, for whoever may read it here."""
        template = self._case_url_template
        number = case_from_url(template, url) if template else None
        if number is None:
            return Results()
        request = await self._where(request)
        handoff = await self._store.latest_for_case(number)
        refusal = await self._access.read(request, handoff, case=number)
        if refusal is not None or handoff is None:
            return Results()
        return Results(found=(self._found(handoff),))

    async def _where(self, request: Request) -> Request:
        """The request as the read policy should see its conversation: a personal one that
        is not the person's chat with the bot is read by others too."""
        conversation = request.conversation
        if not conversation.personal:
            return request
        own = await personal_chat(self._store, request.actor)
        if own is not None and own.conversation_id == conversation.id:
            return request
        others = replace(conversation, kind=ConversationKind.GROUP_CHAT)
        return replace(request, conversation=others)

    def _results(self, handoffs: list[Handoff]) -> Results:
        found = [self._found(handoff) for handoff in handoffs[:RESULTS_LIMIT]]
        if len(handoffs) > RESULTS_LIMIT:
            note = more_found(RESULTS_LIMIT)
            found.append(Found(THUMBNAIL_CONTENT_TYPE, note, note))
        return Results(found=tuple(found))

    def _found(self, handoff: Handoff) -> Found:
        card = handoff_card(handoff, viewer=Viewer.TEAM, case_url_template=self._case_url_template)
        return Found(CARD_CONTENT_TYPE, card, case_preview(handoff))
