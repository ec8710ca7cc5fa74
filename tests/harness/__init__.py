"""Test harness: local fakes of the services the bot talks to, and a network guard.

Importable as ``harness`` once ``tests/`` is on ``sys.path`` (tests/conftest.py does that).
Modules:

- ``network_guard``: pytest plugin; any connection that would leave the machine fails.
- ``fixtures``: pytest plugin; fixtures that start the fakes below.
- ``fake_connector``: the Bot Connector (``serviceUrl``) on loopback, HTTP or HTTPS.
- ``fake_graph``: Microsoft Graph (chats, installed apps, users) on loopback.
- ``fake_token_service``: the Microsoft identity platform over HTTPS for the real msal,
  plus Bot Framework OpenID metadata/JWKS and a signer for inbound tokens.
- ``activities``: builders of Teams activities shaped like tests/fixtures/teams-activities.
- ``tls``: trustme CA helpers.
- ``server``: the recording/fault-injection base the fakes share.

Nothing is imported here on purpose: the network guard is loaded as a plugin before any
test module, and it must not pull in aiohttp, msal or botbuilder.
"""
