"""The handoff record and its parts refuse what they cannot hold, each with a message that says
what is wrong; they keep instants in UTC, never change once made, and read back as stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from handoff.models import (
    AuditEvent,
    Case,
    Handoff,
    HandoffNotes,
    HandoffState,
    NextContact,
    Person,
    Severity,
    as_utc,
    case_from_url,
    case_number_in,
    case_url,
)
from handoff.request import new_handoff

from harness import records
from harness.dialog_user import CRITICAL_CASE
from harness.handoff_flow import CASE, RECEIVER, person
from harness.ids import DEFAULT_USER

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
REQUESTER = person(DEFAULT_USER)


def a_handoff() -> Handoff:
    return new_handoff(
        records.answers(CASE, "EMEA", "US"), records.PLACEHOLDER_OUTPUTS, REQUESTER, T0
    )


def case_fields(**changes: Any) -> dict[str, Any]:
    fields = {
        key: CRITICAL_CASE[key]
        for key in ("severity", "plan", "product_skill", "customer_region", "customer_timezone")
    }
    return {"number": CASE, "is_24x7": True, **fields, **changes}


def refusal(error: pytest.ExceptionInfo[ValidationError]) -> tuple[str, str]:
    """Where the one error is, and what it says."""
    [problem] = error.value.errors()
    return ".".join(str(part) for part in problem["loc"]), problem["msg"]


def test_a_naive_time_is_refused_since_its_zone_would_be_a_guess() -> None:
    with pytest.raises(ValueError, match="timestamps must carry a time zone"):
        as_utc(datetime(2026, 11, 24, 10, 0))
    with pytest.raises(ValidationError) as error:
        Handoff.model_validate({**a_handoff().model_dump(), "updated_at": "2026-11-24T10:00"})
    where, said = refusal(error)
    assert where == "updated_at"
    assert "timestamps must carry a time zone" in said


def test_times_with_an_offset_are_kept_as_the_same_instant_in_utc() -> None:
    berlin = timezone(timedelta(hours=1))
    contact = NextContact(at=datetime(2026, 11, 25, 16, 0, tzinfo=berlin), who_waits="We wait")
    assert contact.at == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
    assert contact.at.utcoffset() == timedelta(0)
    event = AuditEvent(
        handoff_id="h", case_number=CASE, kind="requested", actor=REQUESTER, at=contact.at
    )
    assert event.at.tzinfo is UTC


@pytest.mark.parametrize("number", ["12345", "2311-2300-4000-1234", "12345678901234567890123"])
def test_a_case_number_that_is_not_6_to_20_digits_is_refused(number: str) -> None:
    with pytest.raises(ValidationError) as error:
        Case(**case_fields(number=number))
    where, said = refusal(error)
    assert where == "number"
    assert "should match pattern" in said


def test_a_case_in_an_unknown_zone_is_refused_saying_which_names_work() -> None:
    with pytest.raises(ValidationError) as error:
        Case(**case_fields(customer_timezone="W. Europe Standard Time"))
    where, said = refusal(error)
    assert where == "customer_timezone"
    assert "unknown IANA time zone 'W. Europe Standard Time'" in said
    assert "Europe/Berlin" in said


def test_a_case_knows_its_customers_language_english_unless_said() -> None:
    assert Case(**case_fields()).customer_language == "en"
    assert Case(**case_fields(customer_language="ja")).customer_language == "ja"
    with pytest.raises(ValidationError) as error:
        Case(**case_fields(customer_language="Klingon"))
    where, said = refusal(error)
    assert where == "customer_language"
    assert "unknown language 'Klingon'" in said and "de" in said


def test_a_handoff_stored_before_the_customers_language_reads_back_as_english() -> None:
    handoff = a_handoff()
    stored = handoff.model_dump(mode="json")
    del stored["case"]["customer_language"]
    assert Handoff.model_validate(stored).case.customer_language == "en"
    german = handoff.model_copy(
        update={"case": handoff.case.model_copy(update={"customer_language": "de"})}
    )
    assert Handoff.model_validate_json(german.model_dump_json()) == german


@pytest.mark.parametrize(
    ("field", "value"),
    [("from_region", "emea"), ("target_region", ""), ("reason", ""), ("reason", "x" * 2001)],
)
def test_a_handoff_refuses_a_bad_region_or_reason(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as error:
        Handoff.model_validate({**a_handoff().model_dump(), field: value})
    where, _ = refusal(error)
    assert where == field


def test_a_version_starts_at_one() -> None:
    with pytest.raises(ValidationError) as error:
        Handoff.model_validate({**a_handoff().model_dump(), "version": 0})
    assert "version starts at 1" in refusal(error)[1]


def test_a_record_never_changes_once_made_and_refuses_unknown_fields() -> None:
    handoff = a_handoff()
    with pytest.raises(ValidationError, match="frozen"):
        handoff.state = HandoffState.ACCEPTED  # type: ignore[misc]
    # A misspelt field is an error, not something silently dropped.
    with pytest.raises(ValidationError) as error:
        Handoff.model_validate({**handoff.model_dump(), "ownr": REQUESTER.model_dump()})
    assert refusal(error)[0] == "ownr"
    with pytest.raises(ValidationError):
        Person(id="")


def test_only_a_sev_a_case_worked_24x7_is_critical() -> None:
    assert Case(**case_fields(severity=Severity.A, is_24x7=True)).is_critical
    assert not Case(**case_fields(severity=Severity.A, is_24x7=False)).is_critical
    assert not Case(**case_fields(severity=Severity.B, is_24x7=True)).is_critical


def test_accepted_and_cancelled_are_the_closed_states() -> None:
    closed = {state for state in HandoffState if not state.is_open}
    assert closed == {HandoffState.ACCEPTED, HandoffState.CANCELLED}


def test_a_handoff_reads_back_from_its_json_as_it_was() -> None:
    handoff = a_handoff().model_copy(
        update={
            "owner": person(RECEIVER),
            "notes": HandoffNotes(
                summary="Autoscale stops",
                next_customer_contact=NextContact(at=T0 + timedelta(days=1), who_waits="We"),
            ),
        }
    )
    again = Handoff.model_validate_json(handoff.model_dump_json())
    assert again == handoff
    assert again.notes.next_customer_contact is not None
    assert again.notes.next_customer_contact.at.tzinfo is not None


def test_each_record_gets_its_own_id_and_its_own_data() -> None:
    first, second = a_handoff(), a_handoff()
    assert first.id != second.id
    events = [
        AuditEvent(handoff_id=first.id, case_number=CASE, kind="k", actor=REQUESTER, at=T0)
        for _ in range(2)
    ]
    events[0].data["note"] = "only here"
    assert events[1].data == {}, "the default data is not shared"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Case 2311230040001234 needs US hours", "2311230040001234"),
        ("case no. 2311-2300-4000-1234, Sev A", "2311230040001234"),
        ("CASE #12345678", "12345678"),
        ("Case number: 2311 2300 4000 1234", "2311230040001234"),
        ("Case: 123456789 22 hours in", "123456789"),  # a short group after it is not its
        ("Could US take 2311230040001234? Since 2026-11-24 12:30", "2311230040001234"),
        ("IcM 123456789 is open for 2311230040001234", "2311230040001234"),
        ("Phone +49 30 1234567 about 2311230040001234", "2311230040001234"),
    ],
)
def test_the_case_number_a_message_names_is_found(text: str, number: str) -> None:
    assert case_number_in(text) == number


@pytest.mark.parametrize(
    "text",
    [
        "No number here, only a date: 2026-11-24 at 12:30",
        "Either 123456789 or 987654321, I forget",  # which one would be a guess
        "The logs: https://support.example.com/cases/2311230040001234",  # a link is not a number
        "version 1.123456 and v2.345678",
        "Case 12345 is too short",
        "IcM: 123456789, please look",  # the one number is something else
    ],
)
def test_no_case_number_is_made_up(text: str) -> None:
    assert case_number_in(text) is None


TEMPLATE = "https://support.example.com/cases/{case}"


def test_a_case_link_is_made_from_the_template() -> None:
    assert case_url(TEMPLATE, CASE) == f"https://support.example.com/cases/{CASE}"
    query = "https://crm.example/view?id={case}&tab=notes"
    assert case_url(query, CASE) == f"https://crm.example/view?id={CASE}&tab=notes"


@pytest.mark.parametrize(
    "link",
    [
        f"https://support.example.com/cases/{CASE}",
        f"HTTPS://Support.Example.com/cases/{CASE}/",
        f"https://support.example.com/cases/{CASE}?tab=notes#history",
        f"https://support.example.com/cases/{CASE}/emails",
        "https://support.example.com/cases/2311-2300-4000-1234",
    ],
)
def test_a_link_to_a_case_page_names_its_case(link: str) -> None:
    assert case_from_url(TEMPLATE, link) == CASE


@pytest.mark.parametrize(
    "link",
    [
        "https://support.example.com/cases/not-a-number",
        f"https://support.example.com/cases/{CASE}x",
        f"https://support.example.com/tickets/{CASE}",
        f"https://support.example.com.evil.example/cases/{CASE}",
        f"https://evil.example/?next=https://support.example.com/cases/{CASE}",
        f"http://support.example.com/cases/{CASE}",  # not the template's scheme
        "https://support.example.com/cases/123",
    ],
)
def test_other_links_name_no_case(link: str) -> None:
    assert case_from_url(TEMPLATE, link) is None
    assert case_from_url("https://support.example.com/cases", link) is None
