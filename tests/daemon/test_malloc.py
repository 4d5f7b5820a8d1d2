"""glibc malloc thresholds set at oned's start (one_core/daemon/malloc.py, issue 19)."""

from __future__ import annotations

import platform

import pytest

from one_core.daemon.malloc import tune_malloc


@pytest.mark.parametrize(
    "name", ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"]
)
def test_operator_settings_win(name):
    assert tune_malloc({name: "262144"}) is False


def test_thresholds_are_set_on_glibc():
    assert tune_malloc({}) is (platform.libc_ver()[0] == "glibc")
