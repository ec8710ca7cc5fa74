"""Internal title, DM e-mail and customer message (R-TITLE, R-MAIL, R-CUSTOMER)."""

import datetime as dt
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from handoff.models import Case, Severity, SupportPlan
from handoff.notes.outputs import (
    MAX_MAILTO_CHARS,
    NOTES_ELSEWHERE,
    PLAN_ABBREVIATIONS,
    customer_message,
    internal_title,
    mailto_url,
    reassignment_mail,
    reassignment_subject,
)

QUEUE = "dm-queue@example.invalid"
PREFIX = "Big Data DM, please reassign"


def make_case(**changes: object) -> Case:
    values: dict[str, object] = {
        "number": "123456789012",
        "severity": Severity.A,
        "is_24x7": True,
        "plan": SupportPlan.PREMIER,
        "product_skill": "Data Pipelines",
        "customer_region": "US",
        "customer_timezone": "America/Chicago",
    }
    values.update(changes)
    return Case.model_validate(values)


SEV_A_PREMIER = make_case()
SEV_B_PRO = make_case(
    number="987654321098",
    severity=Severity.B,
    is_24x7=False,
    plan=SupportPlan.PROFESSIONAL,
    product_skill="Stream Processing",
    customer_region="APAC",
    customer_timezone="Asia/Singapore",
)


# --- R-TITLE -------------------------------------------------------------------------------------


def test_title_for_sev_a_premier_case_to_us() -> None:
    assert (
        internal_title("Pipeline runs fail with timeout", "US")
        == "<Need US SE> Pipeline runs fail with timeout"
    )


def test_title_for_sev_b_professional_case_to_apac() -> None:
    assert internal_title("Stream job lags", "APAC") == "<Need APAC SE> Stream job lags"


@pytest.mark.parametrize(
    "title",
    [
        "<Need EMEA SE> Stream job lags",
        "<need emea se>Stream job lags",
        "  < Need IST SE >  Stream job lags",
        "<Need US SE> <Need EMEA SE> Stream job lags",
        "<Need APAC SE> Stream job lags",
    ],
)
def test_existing_prefix_is_replaced_not_stacked(title: str) -> None:
    assert internal_title(title, "APAC") == "<Need APAC SE> Stream job lags"


def test_title_is_idempotent() -> None:
    once = internal_title("Stream job lags", "IST")
    assert internal_title(once, "IST") == once


def test_title_keeps_angle_brackets_that_are_not_a_prefix() -> None:
    assert internal_title("Error <timeout> in job", "US") == "<Need US SE> Error <timeout> in job"


def test_lower_case_region_is_normalised_and_bad_region_refused() -> None:
    assert internal_title("T", "emea") == "<Need EMEA SE> T"
    with pytest.raises(ValueError, match="region code"):
        internal_title("T", "Europe West")


# --- R-MAIL --------------------------------------------------------------------------------------


def test_subject_for_sev_a_premier_case_to_us() -> None:
    assert (
        reassignment_subject(SEV_A_PREMIER, "US", PREFIX)
        == "Big Data DM, please reassign Prem Sev A 123456789012 to US SE - Skill: Data Pipelines"
    )


def test_subject_for_sev_b_professional_case_to_apac() -> None:
    assert (
        reassignment_subject(SEV_B_PRO, "APAC", PREFIX) == "Big Data DM, please reassign Pro Sev B "
        "987654321098 to APAC SE - Skill: Stream Processing"
    )


@pytest.mark.parametrize(
    ("plan", "shown"),
    [
        (SupportPlan.PREMIER, "Prem"),
        (SupportPlan.PROFESSIONAL, "Pro"),
        (SupportPlan.UNIFIED, "Unified"),
    ],
)
def test_plan_abbreviation(plan: SupportPlan, shown: str) -> None:
    assert PLAN_ABBREVIATIONS[plan] == shown
    subject = reassignment_subject(make_case(plan=plan, severity=Severity.C), "EMEA", PREFIX)
    assert subject == f"{PREFIX} {shown} Sev C 123456789012 to EMEA SE - Skill: Data Pipelines"


def test_mail_has_queue_subject_body_and_encoded_mailto() -> None:
    case = make_case(product_skill="Spark & Hive", language_needs="Japanese")
    mail = reassignment_mail(case, "APAC", f" {QUEUE} ", PREFIX, "Summary\n=====\nAll good?")

    assert mail.to == QUEUE
    assert mail.subject == f"{PREFIX} Prem Sev A 123456789012 to APAC SE - Skill: Spark & Hive"
    assert "Please reassign case 123456789012 to an engineer in APAC." in mail.body
    assert "Language needs: Japanese" in mail.body
    assert "Summary\n=====\nAll good?" in mail.body

    parts = urlsplit(mail.mailto_url)
    assert parts.scheme == "mailto"
    assert unquote(parts.path) == QUEUE
    # Nothing that would break the URL is left raw: spaces, ampersands, line breaks, '?'.
    assert " " not in mail.mailto_url
    assert "\n" not in mail.mailto_url
    assert mail.mailto_url.count("&") == 1
    assert mail.mailto_url.count("?") == 1
    query = parse_qs(parts.query)
    assert query["subject"] == [mail.subject]
    assert query["body"] == [mail.body.replace("\n", "\r\n")]


def link_parts(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_short_notes_go_whole_into_the_link() -> None:
    notes = "Summary\n=============\nNightly load fails with a gateway timeout."
    mail = reassignment_mail(SEV_A_PREMIER, "US", QUEUE, PREFIX, notes)
    assert len(mail.mailto_url) <= MAX_MAILTO_CHARS
    assert link_parts(mail.mailto_url)["body"] == [mail.body.replace("\n", "\r\n")]
    assert notes in mail.body


def test_long_notes_leave_the_link_with_the_subject_and_a_short_body() -> None:
    notes = "Summary\n=============\n" + "The copy step fails with a gateway timeout.\n" * 120
    mail = reassignment_mail(SEV_B_PRO, "APAC", QUEUE, PREFIX, notes)

    assert len(mail.mailto_url) <= MAX_MAILTO_CHARS
    parts = link_parts(mail.mailto_url)
    assert parts["subject"] == [
        f"{PREFIX} Pro Sev B 987654321098 to APAC SE - Skill: Stream Processing"
    ]
    assert parts["subject"] == [mail.subject]
    [short_body] = parts["body"]
    assert short_body.split("\r\n") == [
        "Hello,",
        "",
        "Please reassign case 987654321098 to an engineer in APAC.",
        "Severity: Sev B",
        "Plan: Professional",
        "Skill: Stream Processing",
        "Customer time zone: Asia/Singapore",
        "",
        NOTES_ELSEWHERE,
        "",
        "Thank you.",
    ]
    # The e-mail itself still carries every line of the notes.
    assert notes.strip() in mail.body
    assert mail.body.endswith("Thank you.")


def test_the_whole_body_stays_in_the_link_up_to_the_limit_exactly() -> None:
    def url_for(notes_length: int) -> str:
        return reassignment_mail(SEV_A_PREMIER, "US", QUEUE, PREFIX, "x" * notes_length).mailto_url

    # Letters are not encoded, so each one more of them makes the link one character longer.
    fitting = MAX_MAILTO_CHARS - (len(url_for(1)) - 1)
    assert len(url_for(fitting)) == MAX_MAILTO_CHARS
    assert "x" * fitting in link_parts(url_for(fitting))["body"][0]
    [short_body] = link_parts(url_for(fitting + 1))["body"]
    assert "Hand-over notes:" not in short_body
    assert NOTES_ELSEWHERE in short_body


def test_a_link_too_long_even_for_the_short_body_keeps_the_exact_subject() -> None:
    # 190 CJK characters take 9 characters each once encoded, in the subject and in the body.
    case = make_case(product_skill="\u6570" * 190)
    mail = reassignment_mail(case, "US", QUEUE, PREFIX, "Summary\n=====\nshort")
    assert len(mail.mailto_url) <= MAX_MAILTO_CHARS
    parts = link_parts(mail.mailto_url)
    assert parts["subject"] == [mail.subject]
    assert "body" not in parts
    assert "Summary\n=====\nshort" in mail.body


def test_mailto_encodes_plus_and_percent() -> None:
    url = mailto_url(QUEUE, "50% + more", "a+b")
    assert url == "mailto:dm-queue@example.invalid?subject=50%25%20%2B%20more&body=a%2Bb"


@pytest.mark.parametrize(("address", "prefix"), [("  ", PREFIX), (QUEUE, "  ")])
def test_mail_refuses_blank_config(address: str, prefix: str) -> None:
    with pytest.raises(ValueError, match="config"):
        reassignment_mail(SEV_A_PREMIER, "US", address, prefix, "notes")


# --- R-CUSTOMER ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/Berlin", "Thu Jan 15, 2026, 5:00 PM CET"),
        ("America/Chicago", "Thu Jan 15, 2026, 10:00 AM CST"),
        # tzdata has no letters for Singapore; the offset alone says it.
        ("Asia/Singapore", "Fri Jan 16, 2026, 12:00 AM UTC+08:00"),
    ],
)
def test_customer_message_shows_next_update_in_customer_zone(zone: str, expected: str) -> None:
    text = customer_message(
        SEV_A_PREMIER,
        who_continues="Our US support engineer",
        customer_actions=["Upload the gateway logs", "  "],
        next_update_at=dt.datetime(2026, 1, 15, 16, 0, tzinfo=dt.UTC),
        zone_name=zone,
    )
    assert f"Our next update will reach you by {expected}." in text
    assert "Our US support engineer will continue working on your case 123456789012." in text
    assert "- Upload the gateway logs" in text
    assert "- \n" not in text


def test_customer_message_summer_time_abbreviation_and_no_actions() -> None:
    text = customer_message(
        SEV_A_PREMIER,
        who_continues="Our EMEA support engineer",
        customer_actions=[],
        next_update_at=dt.datetime(2026, 7, 1, 7, 30, tzinfo=dt.UTC),
        zone_name="Europe/Berlin",
    )
    assert "Wed Jul 1, 2026, 9:30 AM CEST" in text
    assert "You do not need to do anything for now." in text
    assert len(text.splitlines()) < 12


def test_customer_message_refuses_naive_time_and_blank_who() -> None:
    with pytest.raises(ValueError, match="time zone"):
        customer_message(
            SEV_A_PREMIER,
            who_continues="x",
            customer_actions=[],
            next_update_at=dt.datetime(2026, 1, 15, 16, 0),
            zone_name="Europe/Berlin",
        )
    with pytest.raises(ValueError, match="who continues"):
        customer_message(
            SEV_A_PREMIER,
            who_continues=" ",
            customer_actions=[],
            next_update_at=dt.datetime(2026, 1, 15, 16, 0, tzinfo=dt.UTC),
            zone_name="Europe/Berlin",
        )


def test_customer_message_without_a_next_contact_promises_no_time() -> None:
    text = customer_message(
        SEV_A_PREMIER,
        who_continues="Our US support engineer",
        customer_actions=[],
        next_update_at=None,
        zone_name="America/Chicago",
    )
    assert "next update" not in text
    assert "The new engineer will be in touch with you." in text
