"""Freed memory stays mapped for the next array, in the judge and in each child.

Grading allocates and frees arrays of the same sizes again and again (a million-element
output is 8 MB). glibc's defaults give large blocks back to the kernel when they are freed
(mmap above 128 KiB, heap trim above 128 KiB), so the next array faults its pages in again: about
3 µs per 4 KiB page in the project's virtual machines, 12,000 faults (36 ms) per full submission
graded in one process, measured. With both thresholds raised the memory is reused instead. The
peak is unchanged; memory is only not handed back between two arrays. A child is fresh per
submission, so it still faults in its own working set once: a spare child does that with
:func:`fault_in` before it is handed out (see :mod:`.zygote`).
"""

from __future__ import annotations

import ctypes
import sys

MMAP_THRESHOLD = 32 << 20  # glibc's own ceiling for its dynamic threshold
TRIM_THRESHOLD = 256 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # malloc.h


BLOCK_BYTES = 8 << 20  # under MMAP_THRESHOLD: the blocks come from the heap, and stay there


def _libc():
    """This process's C library, or None off Linux or where it cannot be loaded."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None)
    except OSError:
        return None


def retain_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds in this process; False where libc is not glibc."""
    mallopt = getattr(_libc(), "mallopt", None)  # musl has none
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def fault_in(nbytes: int) -> int:
    """Touch ``nbytes`` of fresh heap now and free it, kept for the arrays to come (after
    :func:`retain_freed_memory`, or glibc trims it again). Returns the bytes touched."""
    libc = _libc()
    if libc is None or nbytes < BLOCK_BYTES:
        return 0
    libc.malloc.argtypes, libc.malloc.restype = [ctypes.c_size_t], ctypes.c_void_p
    libc.free.argtypes, libc.free.restype = [ctypes.c_void_p], None
    blocks = [address for address in (libc.malloc(BLOCK_BYTES) for _ in range(nbytes // BLOCK_BYTES)) if address]
    for address in blocks:
        ctypes.memset(address, 0, BLOCK_BYTES)
    for address in blocks:
        libc.free(address)
    return len(blocks) * BLOCK_BYTES

