"""glibc ``malloc`` settings for oned: large buffers go back to the system when freed,
and all threads share one heap.

Why (docs/decisions.md, "Memory of an oned with a large pool"): glibc's ``mmap``
threshold is dynamic: it starts at 128 KiB and, each time an ``mmap``ed block is freed,
rises to that block's size, so from the second large answer on (``one.vmpool.info`` with
10,000 VMs: 4.5 MB, sent in parts of ≈ 460 KB) those buffers come from the worker threads'
heaps, and the heaps keep the freed space (``malloc_trim`` gave none of it back,
measured). A *fixed* threshold (setting it switches the dynamic one off) keeps every
block of :data:`MMAP_THRESHOLD` or more in its own mapping, returned whole by ``free``;
:data:`TRIM_THRESHOLD` returns free space at a heap's top above that size.

glibc also gives each thread that allocates while another holds the lock a heap of its own
("arena", up to 8 per core): an oned that served 4 clients, ran its drivers and
recovered VMs had 12, each keeping its freed space (2.6 MB free in them with 10,000 VMs,
measured with ``malloc_info``). :data:`ARENA_MAX` = 1 puts every thread on the main
heap: the sweep's RSS with 10,000 VMs went 46.3 → 44.7 MiB (three runs each), and
``one.user.info`` with 4 clients did not get slower beyond the noise (Python's own
allocator serves the small objects under the GIL; docs/performance.md, "Memory with
10,000 VMs").

Nothing is set when the operator chose for themselves (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_ARENA_MAX`` or ``GLIBC_TUNABLES`` in the environment,
read by glibc itself), nor on a C library without ``mallopt`` (musl, macOS).
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["ARENA_MAX", "MMAP_THRESHOLD", "TRIM_THRESHOLD", "tune_malloc"]

MMAP_THRESHOLD = 256 * 1024
"""Blocks of this size or more are ``mmap``ed and unmapped when freed (glibc's default:
128 KiB, rising to 32 MiB as blocks are freed); a listing's parts are above it."""
TRIM_THRESHOLD = 256 * 1024
"""Free space above this at the top of a heap is returned to the system."""
ARENA_MAX = 1
"""Heaps ("arenas") the threads share: one, the main heap."""

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_OPERATOR_SETTINGS = (
    "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES",
)  # fmt: skip


def tune_malloc(environ: dict[str, str] | None = None) -> bool:
    """Set glibc's thresholds (:data:`MMAP_THRESHOLD`, :data:`TRIM_THRESHOLD`) and
    :data:`ARENA_MAX`; call it before threads start. Returns whether they were set."""
    env = os.environ if environ is None else environ
    if any(name in env for name in _OPERATOR_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    settings = (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (_M_ARENA_MAX, ARENA_MAX),
    )  # fmt: skip
    return all([mallopt(param, value) == 1 for param, value in settings])
