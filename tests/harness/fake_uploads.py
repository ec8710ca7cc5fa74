"""OneDrive's upload session, as a file consent's ``uploadInfo.uploadUrl`` points at it: a PUT
of the file's bytes to ``/upload/{name}``, answered 201 with the item, recorded like every fake
request (``requests``; the body as text). Serve it over HTTPS with a ``harness.tls`` context."""

from __future__ import annotations

from collections.abc import Iterable

from .server import Answer, FakeServer, Incoming, Route

__all__ = ["FakeUploads"]


class FakeUploads(FakeServer):
    def upload_url(self, name: str) -> str:
        return f"{self.url}upload/{name}"

    def content_url(self, name: str) -> str:
        return f"{self.url}files/{name}"

    def uploads(self) -> list[str]:
        """The bodies of the uploads received (answered or not), in order."""
        return [str(r.body) for r in self.requests if r.method == "PUT"]

    def _routes(self) -> Iterable[Route]:
        return [Route("PUT", "/upload/{name}", self._put)]

    def _put(self, incoming: Incoming) -> Answer:
        name = incoming.match["name"]
        size = len(str(incoming.body or "").encode("utf-8"))
        return Answer(201, {"id": f"item-{name}", "name": name, "size": size})
