"""Files the bot sends in a personal chat: the bytes PUT to the upload URL Teams gives when a
person accepts a file offer (a OneDrive upload session), in one range, over one pooled aiohttp
session that trusts what the Bot Connector calls trust (``REQUESTS_CA_BUNDLE`` included)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

import aiohttp

from application.insights import UploadFailed
from teams.connector_client import USER_AGENT, client_ssl_context

log = logging.getLogger(__name__)

# Inside the invoke's turn: Teams waits for its answer, so a stuck upload gives up well
# before Teams does and the person is told to try again.
UPLOAD_TIMEOUT_SECONDS = 10.0


class HttpFileUploads:
    """FileUploads (application.insights) over HTTPS; the session opens with the first file
    (or :meth:`start`), and :meth:`close` ends it with the application."""

    def __init__(
        self, hosts: Sequence[str], timeout_seconds: float = UPLOAD_TIMEOUT_SECONDS
    ) -> None:
        # The upload URL comes in the invoke, from the client: only OneDrive's hosts (the
        # FILE_UPLOAD_HOSTS setting) may receive the rows, never an address inside our network.
        self._hosts = tuple(host.lower().strip(".") for host in hosts if host.strip("."))
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: aiohttp.ClientSession | None = None

    def allowed(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return False
        return parts.scheme == "https" and any(
            host == allowed or host.endswith("." + allowed) for allowed in self._hosts
        )

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=client_ssl_context()),
                timeout=self._timeout,
                headers={"User-Agent": USER_AGENT},
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def put(self, url: str, data: bytes) -> None:
        await self.start()
        assert self._session is not None
        if not self.allowed(url):  # whoever calls forgot to ask
            raise UploadFailed("the upload URL is not https on an allowed host")
        size = len(data)
        headers = {
            "Content-Length": str(size),
            "Content-Range": f"bytes 0-{size - 1}/{size}",
            "Content-Type": "application/octet-stream",
        }
        try:
            # No bot token: the URL itself authorizes the upload (a pre-signed session).
            # A redirect is not followed: it could lead the rows off the allowed hosts.
            async with self._session.put(
                url, data=data, headers=headers, allow_redirects=False
            ) as response:
                if response.status not in (200, 201):
                    raise UploadFailed(f"the upload URL answered {response.status}")
        except (aiohttp.ClientError, TimeoutError) as error:
            raise UploadFailed(f"no answer from the upload URL: {error!r}") from error
