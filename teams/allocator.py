"""glibc's malloc told to keep large blocks in mappings of their own, as it does at first.

Each read from a TLS connection (the Bot Connector's answers) goes through a fresh 256 KB
bytes object that is shrunk to what arrived (asyncio's and uvloop's SSL protocols both read
so), and each new TLS connection takes a 256 KB buffer. glibc maps a block that large on its
own, until the first is freed: from then on it raises its threshold (up to 32 MB) and carves
such blocks from the heap, where the few bytes each shrinks to pin the pages around it. The
heap then grows in steps under load and never gives them back. With the threshold fixed at
glibc's starting value, those blocks stay mapped apart, touched only as far as used and
returned whole when freed.

Measured (bench soak, 60 s at c=32 on SQLite with 1M handoffs): see docs/performance.md.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's default starting value


def keep_large_blocks_apart() -> bool:
    """Fixes glibc's mmap threshold; False where the C library is not glibc (musl, macOS)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        # musl has mallopt too, a stub answering 0; gnu_get_libc_version is glibc's alone.
        libc.gnu_get_libc_version  # noqa: B018
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    if not done:
        log.warning("glibc refused a fixed mmap threshold", extra={"bytes": MMAP_THRESHOLD_BYTES})
    return done
