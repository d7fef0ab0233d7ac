"""The fixed mmap threshold: a freed large block no longer pulls later large blocks onto the heap."""

from __future__ import annotations

import subprocess
import sys

import pytest

# In a fresh process: free one 4 MiB block (glibc then raises its mmap threshold above it by default), allocate
# 2 MiB and report how many mmapped blocks the allocator holds while that block lives.
PROBE = """
import ctypes, sys
from kragrec.memory import bound_heap_growth

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "bounded":
    assert bound_heap_growth()
libc.free(libc.malloc(4 << 20))
before = libc.mallinfo2().hblks
block = libc.malloc(2 << 20)
print(libc.mallinfo2().hblks - before)
libc.free(block)
"""


def mmapped_blocks_after_a_large_free(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_large_blocks_stay_mmapped_after_a_large_free():
    assert mmapped_blocks_after_a_large_free("default") == 0  # glibc's dynamic threshold: now served from the heap
    assert mmapped_blocks_after_a_large_free("bounded") == 1
