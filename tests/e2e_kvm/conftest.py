"""Fixtures of the KVM end-to-end tests: a second libvirt host (``sshd`` and
``libvirt_guest``: the one_core.testing plugin)."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys

_SECOND = pathlib.Path(__file__).resolve().parent / "second_host.py"
if "one_tests_second_host" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("one_tests_second_host", _SECOND)
    assert _spec is not None and _spec.loader is not None
    sys.modules["one_tests_second_host"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["one_tests_second_host"])

import pytest  # noqa: E402
from one_tests_second_host import SecondHost, Unavailable, start_second_host  # noqa: E402


@pytest.fixture
def second_host(sshd, libvirt_guest) -> SecondHost:
    """A second libvirt host in namespaces (see ``second_host.py``); skips when impossible."""
    try:
        host = start_second_host(os.path.join(sshd.directory, "sshd_config"), sshd.port)
    except Unavailable as exc:
        pytest.skip(f"no second libvirt host: {exc}")
    try:
        yield host
    finally:
        host.stop()
