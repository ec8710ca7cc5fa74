"""Pytest plugin with fixtures for the fakes: ``pytest_plugins = ["harness.fixtures"]``.

The fakes serve from their own threads, so these are plain (sync) fixtures that work in
sync and async tests alike. Each test gets fresh servers: recorded requests, faults and
token caches never leak between tests. The CA is shared per session because issuing one
costs more than the servers do.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import trustme

from .fake_connector import FakeConnector
from .fake_graph import FakeGraph
from .fake_managed_identity import FakeManagedIdentity
from .fake_token_service import FakeTokenService
from .plain_words import activity_strings, assert_plain_words
from .tls import new_ca, server_ssl_context

__all__ = [
    "fake_connector",
    "fake_connector_https",
    "fake_graph",
    "fake_managed_identity",
    "fake_token_service",
    "tls_ca",
]


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    """The session's throw-away CA; trust it with ``harness.tls.client_ssl_context``."""
    return new_ca()


@pytest.fixture
def fake_connector() -> Iterator[FakeConnector]:
    """A Bot Connector on http://127.0.0.1:<port>/; use ``.url`` as the serviceUrl."""
    with FakeConnector() as connector:
        yield connector
        # Everything the bot said in the test, read as the people it was for would read it.
        shown = [
            text
            for activity in connector.marked_activities()
            for text in activity_strings(activity)
        ]
        assert_plain_words(shown, "a message the bot sent")


@pytest.fixture
def fake_connector_https(tls_ca: trustme.CA) -> Iterator[FakeConnector]:
    """The same over HTTPS, with a certificate from ``tls_ca`` for 127.0.0.1/localhost."""
    with FakeConnector(ssl_context=server_ssl_context(tls_ca)) as connector:
        yield connector


@pytest.fixture
def fake_graph() -> Iterator[FakeGraph]:
    """Graph on http://127.0.0.1:<port>/v1.0 (``.base_url``); needs ``.expected_token``."""
    with FakeGraph() as graph:
        yield graph


@pytest.fixture
def fake_token_service(tls_ca: trustme.CA) -> Iterator[FakeTokenService]:
    """The identity platform over HTTPS; register apps with ``add_client``."""
    with FakeTokenService(tls_ca) as service:
        yield service


@pytest.fixture
def fake_managed_identity() -> Iterator[FakeManagedIdentity]:
    """Azure Container Apps' identity endpoint on http://127.0.0.1:<port>/msi/token; assign
    identities with ``assign``, and point IDENTITY_ENDPOINT/IDENTITY_HEADER at it."""
    with FakeManagedIdentity() as identity:
        yield identity
