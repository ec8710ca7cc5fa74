"""TLS material for the HTTPS fakes: a throw-away ``trustme`` CA and contexts built from it."""

from __future__ import annotations

import atexit
import hashlib
import shutil
import ssl
import tempfile
import threading
from pathlib import Path

import trustme

__all__ = [
    "LOOPBACK_HOSTS",
    "ca_bundle_file",
    "client_ssl_context",
    "new_ca",
    "server_ssl_context",
]

# The names a test may use for a fake server; all of them go into the certificate.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def new_ca() -> trustme.CA:
    """A fresh certificate authority that exists only in this process."""
    return trustme.CA()


def server_ssl_context(ca: trustme.CA, hosts: tuple[str, ...] = LOOPBACK_HOSTS) -> ssl.SSLContext:
    """A server-side context with a certificate for ``hosts`` issued by ``ca``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*hosts).configure_cert(context)
    return context


def client_ssl_context(ca: trustme.CA) -> ssl.SSLContext:
    """A client context that trusts ``ca`` (and nothing else), with hostname checking on."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


class _BundleFiles:
    """PEM files of CAs, for clients that only take a path (requests' ``verify``).

    One directory per process, removed at exit: the files must outlive any one fixture
    because a requests.Session reads the path on every new connection.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._directory: Path | None = None

    def path_for(self, ca: trustme.CA) -> Path:
        pem: bytes = ca.cert_pem.bytes()
        with self._lock:
            if self._directory is None:
                self._directory = Path(tempfile.mkdtemp(prefix="harness-ca-"))
                atexit.register(shutil.rmtree, self._directory, ignore_errors=True)
            path = self._directory / f"{hashlib.sha256(pem).hexdigest()[:16]}.pem"
            if not path.exists():
                path.write_bytes(pem)
            return path


_BUNDLES = _BundleFiles()


def ca_bundle_file(ca: trustme.CA) -> Path:
    """Path of a PEM file holding ``ca``'s certificate (written once per CA per process)."""
    return _BUNDLES.path_for(ca)
