"""glibc's mmap threshold stays fixed once the bot has set it: a large block freed does not
move the next one onto the heap, where the heap would keep growing under load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Counts the blocks glibc mapped on their own (mallinfo2's hblks) around a second large
# allocation, made after a first was freed: glibc raises its threshold on such a free.
PROBE = """
import ctypes, sys
sys.path.insert(0, sys.argv[2])
from teams.allocator import keep_large_blocks_apart

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split())]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "fixed":
    assert keep_large_blocks_apart()
first = bytearray(300_000)
del first
before = libc.mallinfo2().hblks
second = bytearray(300_000)
print(libc.mallinfo2().hblks - before)
"""


def mapped_apart(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")
def test_a_large_block_stays_mapped_apart_after_one_was_freed() -> None:
    assert mapped_apart("default") == 0  # glibc's own way: the heap takes the second
    assert mapped_apart("fixed") == 1
