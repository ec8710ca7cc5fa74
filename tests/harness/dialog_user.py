"""A person in a handoff dialog, driven turn by turn through botbuilder's TestAdapter on the
real bot (tests/dialogs/conftest.py), and the answers the dialog tests give its forms."""

from __future__ import annotations

from typing import Any

from handoff.models import Handoff
from storage.sql_store import SqlStore

from .card_schema import assert_valid_card
from .chat import Chat, cards, form_of

CASE = "2311230040001234"


class Recorder:
    """Every card the bot sends in a test, checked against the Adaptive Card 1.5 schema."""

    def __init__(self, chat: Chat) -> None:
        self.chat = chat
        self.cards_seen = 0

    def _check(self, replies: list[Any]) -> list[Any]:
        for card in cards(replies):
            assert_valid_card(card)
            self.cards_seen += 1
        return replies

    async def say(self, text: str) -> list[Any]:
        return self._check(await self.chat.say(text))

    async def submit(self, form: str, action: str = "next", **values: Any) -> list[Any]:
        return self._check(await self.chat.submit(form, action, **values))

    async def press(self, card: dict[str, Any], title_starts: str) -> list[Any]:
        return self._check(await self.chat.press(card, title_starts))


def the_form(replies: list[Any]) -> str:
    [card] = cards(replies)
    return form_of(card)


CRITICAL_CASE = {
    "title": "Cluster fails to scale out",
    "severity": "A",
    "is_24x7": "true",
    "plan": "Premier",
    "product_skill": "HDInsight",
    "customer_region": "US",
    "customer_timezone": "America/New_York",
    "status": "in progress",
    "owner_region": "EMEA",
}
CRITICAL_NOTES = {
    # Seed 000's summary: the issue, what was done, the current conclusion (R-QUALITY).
    "summary": (
        "Autoscale stops at 20 nodes since the Monday upgrade and jobs queue for hours; raising "
        "the core quota did not help, so we suspect the quota service."
    ),
    "steps_tried": (
        "Raised the core quota -> Outcome: same failure\n"
        "Restarted the autoscaler -> Outcome: no change"
    ),
    "next_steps_customer": "Upload the autoscaler logs",
    "next_steps_us": "US SE: review the autoscaler logs\nWe will ask PG about the quota service",
    "next_contact_date": "2026-11-28",
    "next_contact_time": "09:00",
    "who_waits": "Customer waits for us",
    "customer_reachable": "yes",
    "accepts_english": "yes",
    "critsit_reason": "Production outage for all regions",
    "research": "https://example.invalid/kb/autoscale",
}


async def stored(store: SqlStore) -> Handoff:
    handoff = await store.open_for_case(CASE)
    assert handoff is not None
    return handoff


NON_CRITICAL_CASE = {
    "title": "Slow queries after index rebuild",
    "severity": "B",
    "is_24x7": "false",
    "plan": "Professional",
    "product_skill": "Synapse SQL",
    "customer_region": "EMEA",
    "customer_timezone": "Europe/Berlin",
    "status": "waiting on customer",
    "owner_region": "APAC",
}
NON_CRITICAL_NOTES = {
    "summary": (
        "Queries on the sales pool run 5x slower since the index rebuild on Friday; updating the "
        "statistics helped only 10%, so we suspect the new index layout."
    ),
    "steps_tried": "Updated statistics -> Outcome: 10% faster, still slow",
    "next_steps_customer": "Send the query plans of the three slowest queries",
    "next_steps_us": "EMEA SE: compare the plans with the baseline",
    "next_contact_date": "2026-11-25",
    "next_contact_time": "10:00",
    "who_waits": "We wait for the customer",
}


WITHIN_REGION_CASE = {**CRITICAL_CASE, "owner_region": "EMEA", "customer_region": "EMEA"}
