"""Drives the whole bot turn by turn through botbuilder's TestAdapter, on a real SQLite store."""

from __future__ import annotations

from typing import Any

from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, Entity

from .plain_words import assert_plain_words, visible_strings
from .pseudo_locale import unmarked

CARD = "application/vnd.microsoft.card.adaptive"


class Chat:
    def __init__(self, adapter: TestAdapter, timezone: str = "Europe/Berlin") -> None:
        self.adapter = adapter
        self.timezone = timezone

    async def _send(self, activity: Activity) -> list[Activity]:
        self.adapter.activity_buffer.clear()
        activity.local_timezone = self.timezone
        await self.adapter.receive_activity(activity)
        replies = list(self.adapter.activity_buffer)
        # Whatever a test makes the bot say, it says in plain words.
        assert_plain_words([*texts(replies), *visible_strings(cards(replies))], "a reply")
        for reply in replies:
            reply.text = unmarked(reply.text)
            for attachment in reply.attachments or []:
                attachment.content = unmarked(attachment.content)
        return replies

    async def say(self, text: str, *, mention_bot: bool = False) -> list[Activity]:
        """Types `text`; with `mention_bot`, @mentioning the bot first, as a channel needs."""
        if not mention_bot:
            return await self._send(Activity(type="message", text=text))
        bot = self.adapter.template.recipient
        at = f"<at>{bot.name}</at>"
        # As the SDK reads it off the wire: a mention's fields land in additional_properties.
        mention = Entity().deserialize({"type": "mention", "mentioned": {"id": bot.id}, "text": at})
        return await self._send(Activity(type="message", text=f"{at} {text}", entities=[mention]))

    async def submit(self, form: str, action: str = "next", **values: Any) -> list[Activity]:
        value = {"form": form, "action": action, **values}
        return await self._send(Activity(type="message", text="", value=value))

    async def press(self, card: dict[str, Any], title_starts: str) -> list[Activity]:
        """Presses the card's Action.Submit button whose title starts so: its data comes back."""
        [button] = [a for a in card["actions"] if str(a.get("title", "")).startswith(title_starts)]
        return await self._send(Activity(type="message", text="", value=dict(button["data"])))


def template(user_id: str = "29:ana", name: str = "Ana Lopez") -> Activity:
    return Activity(
        channel_id="msteams",
        service_url="https://connector.invalid/",
        from_property=ChannelAccount(id=user_id, name=name, aad_object_id=f"aad-{user_id}"),
        recipient=ChannelAccount(id="28:bot", name="Handoff Bot"),
        conversation=ConversationAccount(id=f"a:{user_id}", conversation_type="personal"),
    )


def cards(replies: list[Activity]) -> list[dict[str, Any]]:
    return [a.content for r in replies for a in (r.attachments or []) if a.content_type == CARD]


def texts(replies: list[Activity]) -> list[str]:
    return [r.text for r in replies if r.text]


def form_of(card: dict[str, Any]) -> str:
    for action in card.get("actions", []):
        data = action.get("data") or {}
        if "form" in data:
            return str(data["form"])
    raise AssertionError(f"not a form: {card}")


def input_ids(card: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Input.") and "id" in node:
                found.append(node["id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    return found


def all_text(card: dict[str, Any]) -> str:
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                parts.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(parts)


def teams_values(card: dict[str, Any], **changes: str) -> dict[str, str]:
    """What Teams sends for a form left as shown except for `changes`: every input, toggles
    as their on/off value, untouched boxes as empty strings."""
    values: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            kind = str(node.get("type", ""))
            if kind.startswith("Input.") and "id" in node:
                default = node.get("valueOff", "false") if kind == "Input.Toggle" else ""
                values[node["id"]] = str(node.get("value", default))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    unknown = set(changes) - set(values)
    assert not unknown, f"the card has no inputs {sorted(unknown)}"
    return {**values, **changes}
