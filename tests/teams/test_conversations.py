"""When a turn stores its conversation's address again: only when something in it changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botbuilder.schema import Activity

from teams.conversations import StoredAddresses, address_key, address_of

from harness import activities

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def message(service_url: str = "https://smba.example/emea/", name: str = "Ana Lima") -> Activity:
    body = activities.personal_message("help", service_url, user_id="29:ana", user_name=name)
    return Activity().deserialize(body)


def test_the_same_conversation_is_not_stored_again_within_the_hour() -> None:
    stored = StoredAddresses()
    key = address_key(message())
    assert stored.is_news(key, NOW)
    stored.stored(key, NOW)
    assert not stored.is_news(address_key(message()), NOW + timedelta(minutes=59))
    assert stored.is_news(address_key(message()), NOW + timedelta(hours=1))


def test_a_new_service_url_or_name_is_stored_at_once() -> None:
    stored = StoredAddresses()
    stored.stored(address_key(message()), NOW)
    moved = message(service_url="https://smba.example/amer/")
    assert stored.is_news(address_key(moved), NOW)
    assert address_of(moved, NOW).service_url == "https://smba.example/amer/"
    assert stored.is_news(address_key(message(name="Ana Lima-Souza")), NOW)
