"""Freed memory stays mapped for the next array, in the judge and in each child.

Grading allocates and frees arrays of the same sizes again and again (a million-unit dropout
output is 8 MB). glibc's defaults give large blocks back to the kernel when they are freed
(mmap above 128 KiB, heap trim above 128 KiB), so the next array faults its pages in again: about
3 µs per 4 KiB page in the project's virtual machines, 12,000 faults (36 ms) per full submission
graded in one process, measured. With both thresholds raised the memory is reused instead. The
peak is unchanged; memory is only not handed back between two arrays. A child is fresh per
submission, so it still faults in its own working set once.
"""

from __future__ import annotations

import ctypes
import sys

MMAP_THRESHOLD = 32 << 20  # glibc's own ceiling for its dynamic threshold
TRIM_THRESHOLD = 256 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # malloc.h


def retain_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds in this process; False where libc is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False  # musl has no mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
