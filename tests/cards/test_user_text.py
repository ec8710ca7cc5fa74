"""Text a user wrote, wherever a card shows it, is never a mention or a link they did not write."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cards.elements import safe
from cards.escalation_card import approval_card
from cards.transfer_card import handoff_card
from handoff.escalation import Escalation
from handoff.models import Case, Handoff, HandoffKind, HandoffNotes, Person, Severity, SupportPlan

PROPERTIES = settings(max_examples=100, deadline=None, derandomize=True, database=None)
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
# What a renderer could turn into a mention or a link: a tag opener, or a bracket that closes
# a markdown link's text (inline, by reference, or a reference's definition).
LINK_OR_MENTION = re.compile(r"<\s*/?\s*(?:at|a|img)\b|\]\s*[(\[:]", re.IGNORECASE)
SPOOFS = [
    "<at>Team Lead</at>",
    "<AT >x</At>",
    "< at>x</ at>",
    "[our wiki](https://evil.example/login)",
    "[wiki] (https://evil.example)",
    "[wiki][1]\n[1]: https://evil.example",
    "![pixel](https://evil.example/p.png)",
    '<a href="https://evil.example">notes</a>',
    "<img src=x onerror=alert(1)>",
]
user_text = st.one_of(
    st.sampled_from(SPOOFS),
    st.text(alphabet=st.sampled_from("<>[]():/ atimgAT\n"), max_size=30),
    st.lists(st.sampled_from(SPOOFS) | st.text(max_size=20), max_size=4).map("".join),
)


@PROPERTIES
@given(user_text)
def test_safe_text_has_no_mention_or_link_syntax(value: str) -> None:
    assert not LINK_OR_MENTION.search(safe(value))


@PROPERTIES
@given(st.text(alphabet=st.characters(blacklist_characters="<]"), max_size=50))
def test_text_without_brackets_is_shown_as_typed(value: str) -> None:
    assert safe(value) == value


def _texts(element: Any) -> list[str]:
    """Every string a card shows, leaving out its mention entities."""
    if isinstance(element, dict):
        return [t for k, v in element.items() if k != "entities" for t in _texts(v)]
    if isinstance(element, list):
        return [t for item in element for t in _texts(item)]
    return [element] if isinstance(element, str) else []


def _a_handoff(text: str) -> Handoff:
    return Handoff(
        case=Case(
            number="2311230040001234",
            severity=Severity.A,
            is_24x7=True,
            plan=SupportPlan.PREMIER,
            product_skill=text[:80] or "Kafka",
            customer_region="US",
            customer_timezone="America/Chicago",
        ),
        kind=HandoffKind.NON_24X7,
        requester=Person(id="29:rita", name="Rita"),
        from_region="EMEA",
        target_region="US",
        reason=text or "US hours",
        notes=HandoffNotes(
            summary=text, next_steps_us=(text,), next_steps_customer=(text, "call back")
        ),
        open_question=text or None,
        long_running=text or None,
        created_at=NOW,
        updated_at=NOW,
    )


@PROPERTIES
@given(user_text)
def test_the_transfer_card_mentions_only_whom_the_bot_mentions(value: str) -> None:
    content = handoff_card(_a_handoff(value))
    entities = content["msteams"]["entities"]
    tags = {entity["text"] for entity in entities}
    for shown in _texts(content):
        # The bot's own mention tags are the only ones, and each has its entity.
        own = {m.group(0) for m in re.finditer(r"<at>[^<]*</at>", shown)}
        assert own <= tags, shown
        assert not LINK_OR_MENTION.search(re.sub(r"<at>[^<]*</at>", "", shown)), shown


@PROPERTIES
@given(user_text)
def test_the_approval_card_shows_the_steps_and_links_as_text(value: str) -> None:
    escalation = Escalation(
        case_number="2311230040001234",
        requester=Person(id="29:rita", name=value or "Rita"),
        summary=value or "s",
        steps_tried=(value or "restarted",),
        research=(value or "https://logs.example/1",),
        comment=value,
        created_at=NOW,
    )
    shown = json.dumps(_texts(approval_card(escalation)), ensure_ascii=False)
    assert not LINK_OR_MENTION.search(shown)
