"""Fixtures of the KVM end-to-end tests: the shared test sshd and libvirt guest kit."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys

_TESTS = pathlib.Path(__file__).resolve().parents[1]
for _name, _file in (("one_tests_sshd", "sshd.py"), ("one_tests_guest", "guest.py")):
    if _name not in sys.modules:
        _spec = importlib.util.spec_from_file_location(_name, _TESTS / _file)
        assert _spec is not None and _spec.loader is not None
        sys.modules[_name] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules[_name])

from one_tests_guest import libvirt_guest  # noqa: E402,F401  (re-exported fixture)
from one_tests_sshd import sshd  # noqa: E402,F401  (re-exported fixture)

_SECOND = pathlib.Path(__file__).resolve().parent / "second_host.py"
if "one_tests_second_host" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("one_tests_second_host", _SECOND)
    assert _spec is not None and _spec.loader is not None
    sys.modules["one_tests_second_host"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["one_tests_second_host"])

import pytest  # noqa: E402
from one_tests_second_host import SecondHost, Unavailable, start_second_host  # noqa: E402


@pytest.fixture
def second_host(sshd, libvirt_guest) -> SecondHost:  # noqa: F811
    """A second libvirt host in namespaces (see ``second_host.py``); skips when impossible."""
    try:
        host = start_second_host(os.path.join(sshd.directory, "sshd_config"), sshd.port)
    except Unavailable as exc:
        pytest.skip(f"no second libvirt host: {exc}")
    try:
        yield host
    finally:
        host.stop()
