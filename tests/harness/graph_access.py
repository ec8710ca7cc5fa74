"""The settings that give a bot Graph access through the local fakes: the real msal path
against the HTTPS token fake, and Graph on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .fake_connector import FakeConnector
from .fake_graph import FakeGraph
from .fake_token_service import FakeTokenService
from .tls import new_ca

GRAPH_CLIENT_ID, GRAPH_SECRET, GRAPH_TOKEN = "graph-app-id", "graph-secret", "graph-token-1"
TEAMS_APP_ID = "teams-catalog-app-id"


def graph_settings(graph: FakeGraph, token_service: FakeTokenService) -> dict[str, str]:
    """Bot settings for Graph as ``graph`` and the identity platform as ``token_service``.
    msal's own `requests` session must trust the test CA: set ``REQUESTS_CA_BUNDLE`` to
    ``token_service.ca_file`` in the bot's environment."""
    token_service.add_client(GRAPH_CLIENT_ID, GRAPH_SECRET, access_token=GRAPH_TOKEN)
    graph.expected_token = GRAPH_TOKEN
    authority = token_service.authority()
    return {
        "GRAPH_CLIENT_ID": GRAPH_CLIENT_ID,
        "GRAPH_CLIENT_SECRET": GRAPH_SECRET,
        "MicrosoftAppTenantId": authority.rsplit("/", 1)[1],
        "GRAPH_AUTHORITY_HOST": authority.rsplit("/", 1)[0],
        "GRAPH_BASE_URL": graph.base_url,
        "TEAMS_APP_ID": TEAMS_APP_ID,
    }


@contextmanager
def graph_for_processes(connector: FakeConnector) -> Iterator[tuple[FakeGraph, dict[str, str]]]:
    """Graph and the identity platform as fakes for bots run as processes, Graph showing
    what ``connector`` received; yields the fake Graph and the bots' environment for it."""
    with FakeGraph() as graph, FakeTokenService(new_ca()) as token_service:
        graph.show_messages_of(connector)
        settings = graph_settings(graph, token_service)
        yield graph, {**settings, "REQUESTS_CA_BUNDLE": str(token_service.ca_file)}
