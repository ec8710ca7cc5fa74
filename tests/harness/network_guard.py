"""Pytest plugin: no test reaches the network.

Load it with ``pytest_plugins = ["harness.network_guard"]`` (tests/conftest.py) or
``-p harness.network_guard``. While pytest runs, a connection (or a name lookup) that would
leave the machine raises :class:`NetworkAccessBlocked` naming the address; Unix-domain sockets
and loopback (127.0.0.0/8, ::1, ``localhost``) keep working, so local fakes, SQLite and the
PostgreSQL on 127.0.0.1:5432 are unaffected.

The patches go in at ``pytest_configure`` rather than in a fixture so that collection-time
imports and session fixtures are guarded too. The autouse ``network_guard`` fixture then
fails the test if anything was blocked while it ran, because the code under test may well
catch the exception (botbuilder logs and swallows, an outbox retries) and the test would
otherwise pass while the code silently depended on the internet.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

__all__ = [
    "NetworkAccessBlocked",
    "NetworkGuard",
    "is_loopback_host",
    "network_guard",
]

# Names the resolver answers from /etc/hosts on every Linux we run on; anything else may
# turn into a DNS query.
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})

_HINT = "tests may only connect to loopback (127.0.0.0/8, ::1, localhost)"


class NetworkAccessBlocked(RuntimeError):
    """A test tried to reach a non-loopback address or to resolve a non-local name.

    A RuntimeError rather than an OSError on purpose: networking code treats OSError as a
    transient failure and retries it, which would turn a wrong URL in a test into a slow,
    confusing timeout instead of an immediate failure.
    """


def _host_text(host: object) -> str | None:
    if isinstance(host, bytes):
        # Hosts in bytes are already ASCII (punycode); the idna codec would reject errors=.
        return host.decode("ascii", errors="replace")
    if isinstance(host, str):
        return host
    return None


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    # An IPv6 literal may carry a zone ("fe80::1%eth0"), which ipaddress rejects.
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback_host(host: object) -> bool:
    """True for ``localhost`` and for IP literals in 127.0.0.0/8 or ::1."""
    text = _host_text(host)
    if text is None:
        return False
    if text.lower() in _LOOPBACK_NAMES:
        return True
    address = _ip_literal(text)
    return address is not None and address.is_loopback


def _needs_lookup(host: object) -> bool:
    """True when resolving ``host`` could send a DNS query."""
    text = _host_text(host)
    if text is None or text == "":
        # None/"" mean "no host" (bind to any, or the local host): nothing is looked up.
        return False
    return text.lower() not in _LOOPBACK_NAMES and _ip_literal(text) is None


def _describe(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = _host_text(address[0]) or repr(address[0])
        return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
    return repr(address)


class NetworkGuard:
    """Patches the socket module so only loopback and Unix-domain traffic is possible."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blocked: list[str] = []
        self._monkeypatch: pytest.MonkeyPatch | None = None

    @property
    def installed(self) -> bool:
        return self._monkeypatch is not None

    @property
    def blocked(self) -> list[str]:
        """What was refused since the last :meth:`take_blocked`, oldest first."""
        with self._lock:
            return list(self._blocked)

    def take_blocked(self) -> list[str]:
        """Return and forget what was refused; a test that expects a refusal calls this."""
        with self._lock:
            taken = self._blocked
            self._blocked = []
        return taken

    def refuse(self, what: str) -> NetworkAccessBlocked:
        """Record a refused attempt and build the exception to raise for it."""
        with self._lock:
            self._blocked.append(what)
        return NetworkAccessBlocked(f"network access blocked: {what}; {_HINT}")

    def install(self) -> None:
        if self._monkeypatch is not None:
            return
        monkeypatch = pytest.MonkeyPatch()
        self._patch_socket_methods(monkeypatch)
        self._patch_resolver(monkeypatch)
        self._monkeypatch = monkeypatch

    def uninstall(self) -> None:
        if self._monkeypatch is not None:
            self._monkeypatch.undo()
            self._monkeypatch = None

    def _check_socket_address(self, sock: socket.socket, address: object, action: str) -> None:
        # Unix-domain, netlink, ... sockets never leave the machine.
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        if not isinstance(address, tuple) or not address:
            return  # Malformed: let the real socket call raise its own error.
        if not is_loopback_host(address[0]):
            raise self.refuse(f"{action} {_describe(address)}")

    def _patch_socket_methods(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # socket.socket is a Python subclass of _socket.socket, so setting attributes on it
        # reaches every socket, ssl.SSLSocket included (its connect calls super().connect),
        # and asyncio's sock_connect, which calls sock.connect on a non-blocking socket.
        real_connect: Callable[..., None] = socket.socket.connect
        real_connect_ex: Callable[..., int] = socket.socket.connect_ex
        real_sendto: Callable[..., int] = socket.socket.sendto

        def connect(sock: socket.socket, address: Any) -> None:
            self._check_socket_address(sock, address, "connect to")
            real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            self._check_socket_address(sock, address, "connect to")
            return real_connect_ex(sock, address)

        def sendto(sock: socket.socket, *args: Any) -> int:
            # sendto(data, address) or sendto(data, flags, address): UDP, e.g. a DNS query.
            if len(args) >= 2:
                self._check_socket_address(sock, args[-1], "send a datagram to")
            return real_sendto(sock, *args)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket.socket, "sendto", sendto)

    def _patch_resolver(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # Patched on the module because callers look the function up at call time:
        # asyncio's loop.getaddrinfo (aiohttp's default resolver), urllib3/requests (msal),
        # and socket.create_connection itself.
        real_getaddrinfo: Callable[..., Any] = socket.getaddrinfo
        real_create_connection: Callable[..., socket.socket] = socket.create_connection
        real_gethostbyname: Callable[[str], str] = socket.gethostbyname
        real_gethostbyname_ex: Callable[[str], Any] = socket.gethostbyname_ex

        def getaddrinfo(*args: Any, **kwargs: Any) -> Any:
            host = args[0] if args else kwargs.get("host")
            port = args[1] if len(args) > 1 else kwargs.get("port")
            if _needs_lookup(host):
                raise self.refuse(f"resolve {_describe((host, port))}")
            return real_getaddrinfo(*args, **kwargs)

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
            if isinstance(address, tuple) and address and not is_loopback_host(address[0]):
                raise self.refuse(f"connect to {_describe(address)}")
            return real_create_connection(address, *args, **kwargs)

        def gethostbyname(hostname: str) -> str:
            if _needs_lookup(hostname):
                raise self.refuse(f"resolve {hostname}")
            return real_gethostbyname(hostname)

        def gethostbyname_ex(hostname: str) -> Any:
            if _needs_lookup(hostname):
                raise self.refuse(f"resolve {hostname}")
            return real_gethostbyname_ex(hostname)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        monkeypatch.setattr(socket, "create_connection", create_connection)
        monkeypatch.setattr(socket, "gethostbyname", gethostbyname)
        monkeypatch.setattr(socket, "gethostbyname_ex", gethostbyname_ex)


_GUARD = pytest.StashKey[NetworkGuard]()


def pytest_configure(config: pytest.Config) -> None:
    guard = NetworkGuard()
    guard.install()
    config.stash[_GUARD] = guard


def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.stash.get(_GUARD, None)
    if guard is not None:
        guard.uninstall()


def _report(attempts: list[str], when: str) -> str:
    lines = "\n".join(f"  - {attempt}" for attempt in attempts)
    return f"network access was blocked {when} ({_HINT}):\n{lines}"


@pytest.fixture(autouse=True)
def network_guard(request: pytest.FixtureRequest) -> Iterator[NetworkGuard]:
    """The active guard; a test that provokes a refusal on purpose calls ``take_blocked()``."""
    guard = request.config.stash[_GUARD]
    earlier = guard.take_blocked()
    if earlier:
        pytest.fail(_report(earlier, "during collection or fixture set-up"), pytrace=False)
    yield guard
    attempts = guard.take_blocked()
    if attempts:
        pytest.fail(_report(attempts, "during this test"), pytrace=False)
