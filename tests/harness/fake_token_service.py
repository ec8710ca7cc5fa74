"""A local HTTPS fake of the Microsoft identity platform, and of Bot Framework's signing keys.

Outbound (the bot calling Graph or the Bot Connector): the REAL msal
``ConfidentialClientApplication.acquire_token_for_client`` works against it::

    app = msal.ConfidentialClientApplication(
        client_id, client_credential=secret,
        authority=service.authority(),        # https://127.0.0.1:<port>/<tenant>
        instance_discovery=False,             # else msal asks login.microsoftonline.com
        http_client=service.msal_http_client(),  # trusts the test CA, ignores proxy env vars
    )

msal 1.39 accepts only https authorities; with ``instance_discovery=False`` (or
``validate_authority=False``) it skips the instance-discovery call to
login.microsoftonline.com and goes straight to ``{authority}/v2.0/.well-known/
openid-configuration``, then to the ``token_endpoint`` listed there.

Inbound (Teams calling the bot): ``/v1/.well-known/openidconfiguration`` and
``/v1/.well-known/keys`` stand in for login.botframework.com, and :meth:`issue_token` signs
tokens with the listed keys (:meth:`publish_key` and :meth:`retire_key` rotate them). The bot
fetches them over aiohttp (teams/signing_keys.py) and botframework-connector's own code with a
bare ``requests.get``; both trust ``REQUESTS_CA_BUNDLE``, so tests set it to
:attr:`FakeTokenService.ca_file` and point ``TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL`` (or the
SDK's ``ChannelValidation.open_id_metadata_endpoint``) at :attr:`openid_metadata_url`.
"""

from __future__ import annotations

import base64
import functools
import secrets
import time
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import requests
import trustme
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .ids import DEFAULT_TENANT_ID
from .server import Answer, FakeServer, Incoming, Route
from .tls import ca_bundle_file, new_ca, server_ssl_context

__all__ = [
    "BOT_FRAMEWORK_ISSUER",
    "DEFAULT_TENANT_ID",
    "ENDORSED_KID",
    "UNENDORSED_KID",
    "FakeTokenService",
    "msal_http_client",
]

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
# Key ids of the Bot Framework signing keys: one endorsed for Teams, one only for Web Chat,
# so a test can check that a token signed by a key Teams does not endorse is refused.
ENDORSED_KID = "harness-msteams-key"
UNENDORSED_KID = "harness-webchat-key"
_TOKEN_PATH_SUFFIX = "/oauth2/v2.0/token"


def msal_http_client(ca: trustme.CA) -> requests.Session:
    """An ``http_client`` for msal that trusts ``ca``.

    ``trust_env`` is off so HTTPS_PROXY/NO_PROXY or REQUESTS_CA_BUNDLE in the environment
    cannot send the request elsewhere or swap the trust store. The caller closes it.
    """
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca_bundle_file(ca))
    return session


@functools.cache
def _rsa_key(kid: str) -> rsa.RSAPrivateKey:
    # Cached per process: generating a 2048-bit key costs tens of milliseconds.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class _SigningKey:
    kid: str
    endorsements: tuple[str, ...]

    @property
    def private_key(self) -> rsa.RSAPrivateKey:
        return _rsa_key(self.kid)

    def jwk(self, *, with_endorsements: bool) -> dict[str, Any]:
        jwk: dict[str, Any] = dict(RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True))
        jwk.update({"use": "sig", "kid": self.kid, "x5t": self.kid})
        if with_endorsements:
            jwk["endorsements"] = list(self.endorsements)
        return jwk


def _aad_error(status: int, error: str, code: int, description: str) -> Answer:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    return Answer(
        status,
        {
            "error": error,
            "error_description": (
                f"AADSTS{code}: {description} Trace ID: {trace_id} "
                f"Correlation ID: {correlation_id} Timestamp: {now}"
            ),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        },
    )


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return client_id, secret


class FakeTokenService(FakeServer):
    """Token endpoint, OpenID discovery and Bot Framework JWKS on https://127.0.0.1:port/.

    ``ca`` defaults to a fresh trustme CA; its certificate covers 127.0.0.1, ::1 and
    localhost. Any tenant segment in the path is accepted.
    """

    def __init__(
        self,
        ca: trustme.CA | None = None,
        *,
        tenant_id: str = DEFAULT_TENANT_ID,
        expires_in: int = 3599,
    ) -> None:
        self.ca: trustme.CA = ca if ca is not None else new_ca()
        super().__init__(ssl_context=server_ssl_context(self.ca))
        self.tenant_id = tenant_id
        self.expires_in = expires_in
        self._clients: dict[str, tuple[str, str | None]] = {}
        self._issued: list[str] = []
        self._keys = {
            ENDORSED_KID: _SigningKey(ENDORSED_KID, ("msteams",)),
            UNENDORSED_KID: _SigningKey(UNENDORSED_KID, ("webchat",)),
        }

    # -- configuration -------------------------------------------------------------------

    def add_client(
        self, client_id: str, client_secret: str, *, access_token: str | None = None
    ) -> None:
        """Accept ``client_id``/``client_secret``; answer with ``access_token`` (default: a
        fresh random token per request)."""
        with self._lock:
            self._clients[client_id] = (client_secret, access_token)

    def publish_key(self, kid: str, endorsements: Iterable[str] = ("msteams",)) -> None:
        """List one more signing key in the JWKS (Microsoft rotating a key in)."""
        with self._lock:
            self._keys[kid] = _SigningKey(kid, tuple(endorsements))

    def retire_key(self, kid: str) -> None:
        """Stop listing a signing key (Microsoft rotating it out, or revoking it)."""
        with self._lock:
            del self._keys[kid]

    @property
    def ca_file(self) -> Path:
        """PEM of the CA, for ``requests`` (``verify=`` or ``REQUESTS_CA_BUNDLE``)."""
        return ca_bundle_file(self.ca)

    def msal_http_client(self) -> requests.Session:
        return msal_http_client(self.ca)

    def authority(self, tenant: str | None = None) -> str:
        """The msal ``authority``: ``https://127.0.0.1:<port>/<tenant>``."""
        return f"{self.url}{tenant or self.tenant_id}"

    def token_endpoint(self, tenant: str | None = None) -> str:
        return self.authority(tenant) + _TOKEN_PATH_SUFFIX

    @property
    def openid_metadata_url(self) -> str:
        """Bot Framework's OpenID metadata, for ``ChannelValidation.open_id_metadata_endpoint``."""
        return f"{self.url}v1/.well-known/openidconfiguration"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}v1/.well-known/keys"

    # -- observations --------------------------------------------------------------------

    @property
    def token_request_count(self) -> int:
        """Requests to any token endpoint so far (successful or not)."""
        return sum(1 for r in self.requests if r.path.endswith(_TOKEN_PATH_SUFFIX))

    @property
    def jwks_request_count(self) -> int:
        """Requests for the Bot Framework signing keys (the JWKS) so far."""
        return sum(1 for r in self.requests if r.path == "/v1/.well-known/keys")

    @property
    def issued_tokens(self) -> list[str]:
        """Access tokens handed out, oldest first."""
        with self._lock:
            return list(self._issued)

    # -- inbound tokens ------------------------------------------------------------------

    def issue_token(
        self,
        claims: Mapping[str, Any],
        kid: str = ENDORSED_KID,
        *,
        expires_in: int = 3600,
        without: Collection[str] = (),
    ) -> str:
        """An RS256 JWT signed with the key ``kid``, as listed at :attr:`jwks_url`; a ``kid``
        not (or no longer) published there signs all the same, with that kid's own key.

        ``iss`` defaults to https://api.botframework.com and ``iat``/``nbf``/``exp`` to now and
        now + ``expires_in``; ``claims`` override them, and the claims named in ``without``
        are left out. Bot Framework channel auth also wants ``aud`` = the bot's app id and
        ``serviceurl`` = the activity's serviceUrl.
        """
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": BOT_FRAMEWORK_ISSUER,
            "iat": now,
            "nbf": now,
            "exp": now + expires_in,
            **claims,
        }
        for name in without:
            payload.pop(name, None)
        with self._lock:
            key = self._keys.get(kid) or _SigningKey(kid, ())
        return jwt.encode(payload, key.private_key, algorithm="RS256", headers={"kid": kid})

    # -- routes (server thread, under the lock) -----------------------------------------

    def _routes(self) -> Iterable[Route]:
        return [
            Route("GET", "/{tenant}/v2.0/.well-known/openid-configuration", self._discovery),
            Route("POST", "/{tenant}" + _TOKEN_PATH_SUFFIX, self._token),
            Route("GET", "/{tenant}/discovery/v2.0/keys", self._aad_keys),
            Route("GET", "/v1/.well-known/openidconfiguration", self._bot_framework_metadata),
            Route("GET", "/v1/.well-known/keys", self._bot_framework_keys),
        ]

    def _discovery(self, incoming: Incoming) -> Answer:
        tenant = incoming.match["tenant"]
        base = f"{self.url}{tenant}"
        try:
            tenant_guid = str(uuid.UUID(tenant))
        except ValueError:
            tenant_guid = self.tenant_id  # a domain name or "common": the issuer has the GUID
        return Answer(
            200,
            {
                "token_endpoint": base + _TOKEN_PATH_SUFFIX,
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{self.url}{tenant_guid}/v2.0",
                "request_uri_parameter_supported": False,
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "tenant_region_scope": None,
                "cloud_instance_name": "microsoftonline.com",
                "msgraph_host": "graph.microsoft.com",
            },
        )

    def _token(self, incoming: Incoming) -> Answer:
        form: Mapping[str, Any] = incoming.body if isinstance(incoming.body, dict) else {}
        if form.get("grant_type") != "client_credentials":
            return _aad_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        basic = _basic_credentials(incoming.headers.get("Authorization", ""))
        client_id, secret = basic or (str(form.get("client_id", "")), form.get("client_secret"))
        known = self._clients.get(client_id)
        if known is None:
            return _aad_error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        expected_secret, access_token = known
        if secret != expected_secret:
            return _aad_error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                f"is the client secret value, not the client secret ID, for app '{client_id}'.",
            )
        scopes = str(form.get("scope", "")).split()
        if not scopes or not all(scope.endswith("/.default") for scope in scopes):
            return _aad_error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {' '.join(scopes)} is not valid. Client "
                "credential flows must have a scope value with /.default suffixed.",
            )
        token = access_token or f"fake-at-{secrets.token_urlsafe(24)}"
        self._issued.append(token)
        return Answer(
            200,
            {
                "token_type": "Bearer",
                "expires_in": self.expires_in,
                "ext_expires_in": self.expires_in,
                "access_token": token,
            },
        )

    def _aad_keys(self, incoming: Incoming) -> Answer:
        keys = [key.jwk(with_endorsements=False) for key in self._keys.values()]
        return Answer(200, {"keys": keys})

    def _bot_framework_metadata(self, incoming: Incoming) -> Answer:
        return Answer(
            200,
            {
                "issuer": BOT_FRAMEWORK_ISSUER,
                "authorization_endpoint": "https://invalid.botframework.com",
                "jwks_uri": self.jwks_url,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            },
        )

    def _bot_framework_keys(self, incoming: Incoming) -> Answer:
        keys = [key.jwk(with_endorsements=True) for key in self._keys.values()]
        return Answer(200, {"keys": keys})
