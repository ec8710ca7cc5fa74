"""A local fake of the identity endpoint Azure Container Apps (and App Service) gives a container
with a managed identity: the IDENTITY_ENDPOINT / IDENTITY_HEADER pair.

The REAL ``msal.ManagedIdentityClient`` works against it once both are in the environment::

    monkeypatch.setenv("IDENTITY_ENDPOINT", identity.endpoint)   # http://127.0.0.1:<port>/msi/token
    monkeypatch.setenv("IDENTITY_HEADER", identity.header)

msal then asks ``GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=<resource>
&client_id=<client id>`` with ``X-IDENTITY-HEADER: <IDENTITY_HEADER>`` (msal/managed_identity.py,
``_obtain_token_on_app_service``). As Azure's endpoint does, this one answers
``{"access_token", "expires_on", "resource", "token_type", "client_id"}`` (``expires_on`` in
seconds since the epoch, as text) for an identity assigned to the app, and refuses with
``{"statusCode", "message"}``: 401 for a missing or wrong header, 400 for a missing
resource or api-version, or an identity not assigned to the app. Plain HTTP on loopback,
like Azure's (the endpoint is local to the container).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from .server import Answer, FakeServer, Incoming, RecordedRequest, Route

__all__ = ["FakeManagedIdentity", "IssuedToken"]

TOKEN_PATH = "/msi/token"
API_VERSION = "2019-08-01"


@dataclass(frozen=True)
class IssuedToken:
    client_id: str
    resource: str
    access_token: str


def _refusal(status: int, message: str) -> Answer:
    return Answer(
        status, {"statusCode": status, "message": message, "correlationId": str(uuid.uuid4())}
    )


class FakeManagedIdentity(FakeServer):
    """``assign(client_id)`` the identities the app has; ``lifetime`` is how long a token
    lasts from when it is issued (seconds; negative issues tokens already expired)."""

    def __init__(self, *, lifetime: int = 86400) -> None:
        super().__init__()
        self.header = secrets.token_hex(16)
        self.lifetime = lifetime
        self._assigned: set[str] = set()
        self._issued: list[IssuedToken] = []

    def assign(self, client_id: str) -> None:
        """Assign a user-assigned identity to the app (Container Apps: Identity → User assigned)."""
        with self._lock:
            self._assigned.add(client_id.lower())

    @property
    def endpoint(self) -> str:
        """What Azure puts in IDENTITY_ENDPOINT."""
        return self.url.rstrip("/") + TOKEN_PATH

    # -- observations --------------------------------------------------------------------

    def token_requests(self, resource: str | None = None) -> list[RecordedRequest]:
        """Requests for a token (for ``resource`` only, if given), answered or refused."""
        return [
            r
            for r in self.requests
            if r.path == TOKEN_PATH and (resource is None or r.query.get("resource") == resource)
        ]

    @property
    def issued(self) -> list[IssuedToken]:
        with self._lock:
            return list(self._issued)

    def issued_for(self, resource: str) -> list[str]:
        """The access tokens handed out for ``resource``, oldest first."""
        return [t.access_token for t in self.issued if t.resource == resource]

    # -- routes (server thread, under the lock) -----------------------------------------

    def _routes(self) -> Iterable[Route]:
        return [Route("GET", TOKEN_PATH, self._token)]

    def _token(self, incoming: Incoming) -> Answer:
        if incoming.headers.get("X-IDENTITY-HEADER") != self.header:
            return _refusal(401, "The X-IDENTITY-HEADER header is missing or not valid.")
        if incoming.query.get("api-version") != API_VERSION:
            return _refusal(400, f"The api-version must be {API_VERSION}.")
        resource = incoming.query.get("resource", "")
        if not resource:
            return _refusal(400, "The resource parameter is required.")
        client_id = incoming.query.get("client_id", "")
        if client_id.lower() not in self._assigned:
            return _refusal(400, "Unable to load the proper Managed Identity.")
        token = f"mi-{len(self._issued) + 1}-{secrets.token_urlsafe(12)}"
        self._issued.append(IssuedToken(client_id, resource, token))
        return Answer(
            200,
            {
                "access_token": token,
                "expires_on": str(int(time.time()) + self.lifetime),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": client_id,
            },
        )
