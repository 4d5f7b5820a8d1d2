"""glibc malloc settings made at oned's start (one_core/daemon/malloc.py, issue 19)."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

from one_core.daemon.malloc import tune_malloc

GLIBC = platform.libc_ver()[0] == "glibc"


@pytest.mark.parametrize(
    "name",
    ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES"],
)
def test_operator_settings_win(name):
    assert tune_malloc({name: "262144"}) is False


def test_thresholds_are_set_on_glibc():
    assert tune_malloc({}) is GLIBC


HEAPS_AFTER_THREADS = textwrap.dedent(
    """
    import ctypes, os, tempfile, threading
    from one_core.daemon.malloc import tune_malloc

    tune_malloc({})
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = (ctypes.c_char_p, ctypes.c_char_p)
    libc.malloc_info.argtypes = (ctypes.c_int, ctypes.c_void_p)
    libc.fclose.argtypes = (ctypes.c_void_p,)
    together = threading.Barrier(6)

    def allocate():
        together.wait()  # all alive at once: none can inherit a finished one's heap
        libc.malloc(4096)
        together.wait()

    threads = [threading.Thread(target=allocate) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with tempfile.NamedTemporaryFile() as out:
        f = libc.fopen(out.name.encode(), b"w")
        libc.malloc_info(0, f)
        libc.fclose(f)
        print(open(out.name).read().count("<heap nr="))
    """
)


@pytest.mark.skipif(not GLIBC, reason="glibc's arenas")
def test_threads_share_one_heap():
    """6 threads allocating at once: glibc would give each its own heap (8 per core)."""
    out = subprocess.run(
        [sys.executable, "-c", HEAPS_AFTER_THREADS], capture_output=True, text=True, check=True
    )
    assert int(out.stdout) == 1
