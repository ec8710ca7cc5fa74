"""Internal title, DM e-mail and customer message (R-TITLE, R-MAIL, R-CUSTOMER)."""

import datetime as dt
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from handoff.models import Case, Severity, SupportPlan
from handoff.outputs import (
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
        ("Europe/Berlin", "Thu 2026-01-15 17:00 CET (UTC+01:00, Europe/Berlin)"),
        ("America/Chicago", "Thu 2026-01-15 10:00 CST (UTC-06:00, America/Chicago)"),
        # tzdata has no letters for Singapore; the offset alone says it.
        ("Asia/Singapore", "Fri 2026-01-16 00:00 (UTC+08:00, Asia/Singapore)"),
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
    assert "Wed 2026-07-01 09:30 CEST (UTC+02:00, Europe/Berlin)" in text
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
