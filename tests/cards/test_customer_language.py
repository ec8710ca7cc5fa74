"""The customer's language: the message drafted for the customer is in it, while everything
the engineer reads stays in the engineer's own language, and the notes (English) say it."""

from __future__ import annotations

import datetime as dt
import gettext
from collections.abc import Iterator

import pytest

from cards import handoff_forms as forms
from handoff.flowchart import NextStep, NextStepKind
from handoff.models import Case, HandoffNotes, NextContact, Severity, SupportPlan
from handoff.request import HandoffAnswers, Queue, compose_outputs
from i18n import _, catalogs, speaking

from harness.chat import all_text

NUMBER = "2311230040001234"
QUEUE = Queue("dm-queue@example.invalid", "Big Data DM, please reassign")
STEP = NextStep(NextStepKind.ATTEND_MEETING, "Attend the handoff meeting.", ())
NOTES = HandoffNotes(
    summary="Autoscale stops at 20 nodes since the upgrade.",
    next_steps_customer=("Upload the gateway logs",),
    next_steps_us=("US SE: review the autoscaler logs",),
    next_customer_contact=NextContact(
        at=dt.datetime(2026, 11, 25, 15, 0, tzinfo=dt.UTC), who_waits="Customer waits for us"
    ),
)


class Catalog(gettext.NullTranslations):
    """A catalog of a few texts, for a language whose real catalog is still empty."""

    def __init__(self, texts: dict[str, str]) -> None:
        super().__init__()
        self.texts = texts

    def gettext(self, message: str) -> str:
        return self.texts.get(message, message)


@pytest.fixture
def german() -> Iterator[None]:
    before = catalogs.translations("de")
    catalogs.register(
        "de",
        Catalog(
            {
                "Hello,": "Hallo,",
                "Best regards": "Viele Grüße",
                "Our {region} support engineer": "Unser Support-Techniker in {region}",
                "Message for the customer": "Nachricht an den Kunden",
            }
        ),
    )
    yield
    catalogs.register("de", before)


def answers_for(language: str) -> HandoffAnswers:
    case = Case(
        number=NUMBER,
        severity=Severity.A,
        is_24x7=True,
        plan=SupportPlan.PREMIER,
        product_skill="HDInsight",
        customer_region="US",
        customer_timezone="America/New_York",
        title="Cluster fails to scale out",
        language_needs="prefers e-mail to calls",
        customer_language=language,
    )
    return HandoffAnswers(
        case=case,
        owner_region="EMEA",
        target_region="US",
        kind_choice="between",
        reason="Customer needs support in US hours",
        notes=NOTES,
    )


@pytest.mark.usefixtures("german")
def test_the_customers_message_is_in_their_language_and_the_engineers_card_in_theirs() -> None:
    outputs = compose_outputs(answers_for("de"), STEP, QUEUE)
    message = outputs.customer_message.splitlines()
    assert message[0] == "Hallo,"
    assert message[-1] == "Viele Grüße"
    assert "Unser Support-Techniker in US" in outputs.customer_message
    # Its time in the customer's zone, as German writes it.
    assert "Mi. 25.11.2026, 10:00 EST" in outputs.customer_message
    # The notes are the process's, in English, and say the customer's language there.
    assert (
        "Language Needs\n=============\nCustomer language: German; prefers e-mail to calls\n"
        in (outputs.notes_text)
    )
    # The engineer's turn (English here) is untouched by the customer's language.
    assert _("Hello,") == "Hello,"
    review = forms.review_card(answers_for("de").case, outputs, updating=False)
    shown = all_text(review)
    assert "Message for the customer (in German)" in shown
    assert "Notes for the case tool" in shown


@pytest.mark.usefixtures("german")
def test_an_engineer_reading_german_drafts_english_for_an_english_customer() -> None:
    with speaking("de"):
        outputs = compose_outputs(answers_for("en"), STEP, QUEUE)
        review = forms.review_card(answers_for("en").case, outputs, updating=False)
        assert _("Hello,") == "Hallo,", "the engineer's own turn stays German"
    assert outputs.customer_message.startswith("Hello,\n")
    assert "Our US support engineer will continue working on your case" in (
        outputs.customer_message
    )
    assert "Wed Nov 25, 2026, 10:00 AM EST" in outputs.customer_message
    assert "Nachricht an den Kunden" in all_text(review)
    # An English customer is the default: the notes say only what the engineer wrote.
    assert "Language Needs\n=============\nprefers e-mail to calls\n" in outputs.notes_text
