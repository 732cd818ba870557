"""Keep the C heap's freed memory for reuse, so that large per-call arrays do not fault in fresh pages.

A fused layer allocates its per-call arrays (gates, saved states, gate gradients: megabytes each) on every
forward and backward. glibc's malloc serves blocks above ``M_MMAP_THRESHOLD`` (128 KiB at start) with a
fresh ``mmap`` and returns the top of the heap to the system once more than ``M_TRIM_THRESHOLD`` of it is
free; either way the next call touches new pages, and the kernel zero-fills each on its first write. glibc
also raises both thresholds by itself when a large mapped block is freed, so whether a call pays depends on
what the process allocated earlier. Measured on this project's 2-core machine (GRU T=50, B=32, I=64, H=128,
float32, forward + backward, one BLAS thread): 2,776 page faults and ~7 ms of system time per call, 17-19 ms
CPU, when the thresholds had not been raised or the heap was trimmed, against no faults and 11-12 ms once
they were, which made the same code 50% slower or not according to which layers had run before it.

``keep_freed_memory`` fixes both thresholds at the start (called when the kernels load): blocks up to 32 MiB
(glibc's limit for the threshold) come from the heap, and up to 256 MiB of free heap is kept, at most the
program's own peak. Larger blocks are still mapped per call. A threshold the user set through glibc's
environment variables (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``) is left as it is; other C
libraries' malloc and other systems are left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # bytes: glibc's largest accepted value (HEAP_MAX_SIZE / 2 on 64-bit)
TRIM_THRESHOLD = 256 << 20  # bytes of free heap top kept before returning it to the system
_ENV = {M_MMAP_THRESHOLD: "MALLOC_MMAP_THRESHOLD_", M_TRIM_THRESHOLD: "MALLOC_TRIM_THRESHOLD_"}


def keep_freed_memory() -> bool:
    """Fix glibc's mmap and trim thresholds (see the module docstring); return whether any was set.

    Does nothing (returns False) off Linux, with another C library, or where the user set both thresholds.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    wanted = {M_MMAP_THRESHOLD: MMAP_THRESHOLD, M_TRIM_THRESHOLD: TRIM_THRESHOLD}
    return any([mallopt(param, value) == 1 for param, value in wanted.items() if _ENV[param] not in os.environ])
