"""glibc ``malloc`` settings for oned: large buffers go back to the system when freed.

Why (docs/decisions.md, "Memory of an oned with a large pool"): glibc's ``mmap``
threshold is dynamic: it starts at 128 KiB and, each time an ``mmap``ed block is freed,
rises to that block's size, so from the second large answer on (``one.vmpool.info`` with
10,000 VMs: 4.5 MB, sent in parts of ≈ 460 KB) those buffers come from the worker threads'
heaps, and the heaps keep the freed space (``malloc_trim`` gave none of it back,
measured). A *fixed* threshold (setting it switches the dynamic one off) keeps every
block of :data:`MMAP_THRESHOLD` or more in its own mapping, returned whole by ``free``;
:data:`TRIM_THRESHOLD` returns free space at a heap's top above that size.

Nothing is set when the operator chose for themselves (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_`` or ``GLIBC_TUNABLES`` in the environment, read by glibc
itself), nor on a C library without ``mallopt`` (musl, macOS).
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "tune_malloc"]

MMAP_THRESHOLD = 256 * 1024
"""Blocks of this size or more are ``mmap``ed and unmapped when freed (glibc's default:
128 KiB, rising to 32 MiB as blocks are freed); a listing's parts are above it."""
TRIM_THRESHOLD = 256 * 1024
"""Free space above this at the top of a heap is returned to the system."""

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_OPERATOR_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")


def tune_malloc(environ: dict[str, str] | None = None) -> bool:
    """Set glibc's thresholds (:data:`MMAP_THRESHOLD`, :data:`TRIM_THRESHOLD`); call it
    before threads start. Returns whether they were set."""
    env = os.environ if environ is None else environ
    if any(name in env for name in _OPERATOR_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1 and ok
