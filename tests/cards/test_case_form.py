"""The case form: the customer's language, offered by each language's own name, English unless
chosen; kept when the form comes back for another answer; a value the form never offered (an
old or altered card) named, and set back to English, with nothing else typed lost."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cards import case_form
from dialogs.handoff_draft import raw_of
from handoff.models import Person
from handoff.request import HandoffAnswers, new_handoff
from i18n.languages import LANGUAGES

from harness import records
from harness.card_schema import assert_valid_card
from harness.chat import all_text
from harness.dialog_user import CRITICAL_CASE

REGIONS = ("EMEA", "US", "APAC", "IST")
NUMBER = "2311230040001234"
# The shared critical case, with a language need typed in.
FILLED = {**CRITICAL_CASE, "language_needs": "Japanese speaker on the customer's side"}


def element(content: dict[str, Any], input_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [e for e in content["body"] if e.get("id") == input_id]
    [element] = found
    return element


def test_the_case_form_offers_each_language_by_its_own_name_english_unless_chosen() -> None:
    content = case_form.case_card(NUMBER, REGIONS, {}, [])
    assert_valid_card(content)
    languages = element(content, "customer_language")
    assert languages["type"] == "Input.ChoiceSet"
    titles = {choice["value"]: choice["title"] for choice in languages["choices"]}
    assert list(titles) == list(LANGUAGES)
    assert titles["en"] == "English"
    assert titles["de"] == "Deutsch (German)"
    assert titles["ja"] == "日本語 (Japanese)"
    assert languages["value"] == "en"
    # The free text stays, for what a language alone does not say.
    assert element(content, "language_needs")["type"] == "Input.Text"


def test_the_chosen_language_is_read_and_kept_when_the_form_comes_back() -> None:
    chosen = {**FILLED, "customer_language": "de"}
    answers = case_form.read_case(NUMBER, chosen, REGIONS)
    assert isinstance(answers, case_form.CaseAnswers)
    assert answers.case.customer_language == "de"
    assert answers.case.language_needs == FILLED["language_needs"]
    # Another answer is wrong: the form comes back with the language still chosen.
    untitled = {**chosen, "title": ""}
    problems = case_form.read_case(NUMBER, untitled, REGIONS)
    assert problems == ["Internal case title: paste the case's title as it is now."]
    again = case_form.case_card(NUMBER, REGIONS, untitled, problems)
    assert element(again, "customer_language")["value"] == "de"
    assert problems[0] in all_text(again)


def test_a_language_the_form_never_offered_is_named_and_set_back_to_english() -> None:
    stale = {**FILLED, "customer_language": "tlh"}
    problems = case_form.read_case(NUMBER, stale, REGIONS)
    assert problems == [
        "Customer's language: “tlh” is not one of the languages offered, so the form now says "
        "English. Choose the customer's language again."
    ]
    again = case_form.case_card(NUMBER, REGIONS, stale, problems)
    assert_valid_card(again)
    assert element(again, "customer_language")["value"] == "en"
    # Nothing else typed is lost.
    assert element(again, "title")["value"] == FILLED["title"]
    assert element(again, "language_needs")["value"] == FILLED["language_needs"]
    assert element(again, "customer_timezone")["value"] == FILLED["customer_timezone"]
    assert problems[0] in all_text(again)


def test_a_stored_handoff_comes_back_into_the_form_with_its_customers_language() -> None:
    answers = records.answers(NUMBER, "EMEA", "US")
    german = answers.case.model_copy(update={"customer_language": "de", "title": "x"})
    stored = new_handoff(
        HandoffAnswers(**{**answers.__dict__, "case": german}),
        records.PLACEHOLDER_OUTPUTS,
        Person(id="29:ana", name="Ana"),
        datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
    )
    raw = raw_of(stored)["case"]
    assert raw["customer_language"] == "de"
    read = case_form.read_case(NUMBER, raw, REGIONS)
    assert isinstance(read, case_form.CaseAnswers)
    assert read.case == german
