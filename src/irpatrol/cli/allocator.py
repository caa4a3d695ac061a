"""Keep freed frame buffers in the process instead of returning them to the kernel (glibc).

A batch allocates and frees the same few megabytes per image (file bytes, raw
frame, °C array).  With glibc's default thresholds those buffers go back to the
kernel after each image and the next image pays ~1 000 fresh-page faults, more
than the whole conversion of a uint16 frame.  The CLI owns its process, so it
raises the thresholds once at start-up (forked workers inherit them); the library
never changes process-wide allocator settings.  See BENCHMARKS.md.
"""

from __future__ import annotations

import ctypes
import ctypes.util

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 64 * 1024 * 1024
"""Blocks below this come from the heap, where they are reused."""
TRIM_THRESHOLD_BYTES = 128 * 1024 * 1024
"""Free memory at the heap top kept for reuse before it is returned."""


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds; False where there is no glibc ``mallopt``."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok_mmap = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
    ok_trim = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1
    return ok_mmap and ok_trim
