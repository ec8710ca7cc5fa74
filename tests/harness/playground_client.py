"""Drives the Microsoft 365 Agents Playground over its own HTTP and WebSocket API, the way its
web client does: people post messages and press card buttons; the bot's messages and card
updates arrive on the conversation stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

WAIT_SECONDS = 20.0


@dataclass(frozen=True)
class StreamEvent:
    action: str  # createMessage, updateMessage, ...
    conversation_id: str
    message: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.message.get("text") or "")

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.message.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                content = attachment.get("content")
                return content if isinstance(content, dict) else None
        return None

    @property
    def thread_id(self) -> str:
        """The conversation replies and button presses on this message belong to: a channel
        post starts a thread of its own."""
        return str(self.message.get("postConversationId") or self.conversation_id)

    @property
    def message_id(self) -> str:
        return str(self.message.get("messageId") or self.message.get("id") or "")


class PlaygroundClient:
    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self._base = base_url
        self._session = session
        self.events: list[StreamEvent] = []
        self._arrived = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None
        self._socket: aiohttp.ClientWebSocketResponse | None = None

    async def connect(self) -> None:
        self._socket = await self._session.ws_connect(
            f"{self._base}/_ws_conversation/v1/conversations/stream",
            timeout=aiohttp.ClientWSTimeout(ws_close=WAIT_SECONDS),
        )
        self._reader = asyncio.create_task(self._read(self._socket))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._socket is not None:
            await self._socket.close()

    async def _read(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for frame in socket:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(frame.data)
            message = data.get("message")
            if not isinstance(message, dict):
                continue
            event = StreamEvent(
                str(data.get("action")), str(data.get("actionConversationId")), message
            )
            async with self._arrived:
                self.events.append(event)
                self._arrived.notify_all()

    async def wait_for(
        self, predicate: Callable[[StreamEvent], bool], description: str, after: int = 0
    ) -> StreamEvent:
        """The first event from index `after` on that matches; fails after WAIT_SECONDS."""

        def found() -> StreamEvent | None:
            return next((e for e in self.events[after:] if predicate(e)), None)

        async with self._arrived:
            try:
                await asyncio.wait_for(
                    self._arrived.wait_for(lambda: found() is not None), WAIT_SECONDS
                )
            except TimeoutError:
                seen = [f"{e.action} {e.conversation_id}: {e.text[:80]}" for e in self.events]
                raise AssertionError(
                    f"no {description} within {WAIT_SECONDS:.0f} s; saw {seen}"
                ) from None
        event = found()
        assert event is not None
        return event

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        async with self._session.post(f"{self._base}{path}", json=body) as response:
            text = await response.text()
            assert response.status == 200, f"POST {path} answered {response.status}: {text}"
            return json.loads(text) if text else None

    async def say(
        self, conversation_id: str, user_id: str, text: str, mention: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        """A person posts `text`; `mention` is (id, name) of someone @mentioned before it."""
        body: dict[str, Any] = {"from": {"id": user_id}, "text": text, "textFormat": "plain"}
        if mention is not None:
            tag = f"<at>{mention[1]}</at>"
            body["text"] = f"{tag} {text}"
            body["mentions"] = [{"mentioned": {"id": mention[0]}, "text": tag}]
        answer: dict[str, Any] = await self._post(
            f"/_conversation/v1/conversations/{conversation_id}/messages", body
        )
        return answer

    async def submit(
        self, conversation_id: str, user_id: str, reply_to_id: str, value: dict[str, Any]
    ) -> None:
        """Action.Submit on a card: a message activity carrying the data and inputs."""
        await self._post(
            "/_conversation/v1/submit",
            {
                "conversation": {"id": conversation_id},
                "from": {"id": user_id},
                "replyToId": reply_to_id,
                "value": value,
            },
        )

    async def execute(
        self,
        conversation_id: str,
        user_id: str,
        reply_to_id: str,
        verb: str,
        data: dict[str, Any],
    ) -> Any:
        """Action.Execute on a card: the adaptiveCard/action invoke; returns the bot's answer."""
        return await self._post(
            "/_conversation/v1/invoke",
            {
                "name": "adaptiveCard/action",
                "conversation": {"id": conversation_id},
                "from": {"id": user_id},
                "replyToId": reply_to_id,
                "value": {
                    "action": {"type": "Action.Execute", "verb": verb, "data": data},
                    "trigger": "manual",
                },
            },
        )

    async def custom_activity(self, conversation_id: str, kind: str) -> None:
        """One of the playground's mock events (install, botAdded, ...) sent to the bot."""
        async with self._session.get(
            f"{self._base}/_internal/v1/customActivities/template",
            params={"conversationId": conversation_id, "type": kind},
        ) as response:
            assert response.status == 200, await response.text()
            activity = await response.json()
        await self._post("/_internal/v1/customActivities", activity)

    async def compose(
        self, name: str, conversation_id: str, user_id: str, value: dict[str, Any]
    ) -> Any:
        """The compose box's invoke (composeExtension/query, fetchTask, submitAction,
        queryLink), as the playground's web client sends it; returns the bot's answer."""
        return await self._post(
            "/_conversation/v1/invoke",
            {
                "name": name,
                "conversation": {"id": conversation_id},
                "from": {"id": user_id},
                "value": value,
            },
        )
