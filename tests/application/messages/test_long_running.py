"""What the bot says about a long-running case, as a reader sees it: its status says what
applies and nothing else, and what an admin must set reads as a list."""

from __future__ import annotations

from application import messages

# -- A long-running case's status ---------------------------------------------------------


def test_long_running_without_owners_offers_no_chat() -> None:
    said = messages.long_running_status("123456", "flagged: two zones", {})
    assert said == "Case 123456 is long-running: flagged: two zones."


def test_long_running_with_owners_offers_their_chat() -> None:
    said = messages.long_running_status(
        "123456",
        "it has gone round the globe: EMEA → US → APAC → EMEA",
        {"EMEA": "Ana", "US": "Bo"},
    )
    assert said == (
        "Case 123456 is long-running: it has gone round the globe: EMEA → US → APAC → EMEA."
        "\n\nRegional owners, from who owned it:\n- EMEA: Ana\n- US: Bo"
        "\n\nType **longrunning 123456 chat** to make their group chat."
    )


def test_long_running_with_owners_but_no_group_chats_says_what_to_set() -> None:
    said = messages.long_running_status(
        "123456", "flagged: x", {"EMEA": "Ana (ana@example.com)"}, ("TEAMS_APP_ID",)
    )
    assert "- EMEA: Ana (ana@example.com)" in said
    assert said.endswith(
        "Their group chat cannot be made: group chats are not configured for this bot "
        "(an admin must set TEAMS_APP_ID)."
    )
    assert "longrunning 123456 chat" not in said


def test_the_settings_group_chats_need_read_as_a_list() -> None:
    said = messages.group_chats_not_configured("123456", ["MicrosoftAppTenantId", "TEAMS_APP_ID"])
    assert "An admin must set MicrosoftAppTenantId and TEAMS_APP_ID: Microsoft Graph" in said
