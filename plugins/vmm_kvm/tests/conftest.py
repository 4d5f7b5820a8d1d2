"""Fixtures of the KVM driver tests: the shared test sshd and the real-guest kit."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

_TESTS = pathlib.Path(__file__).resolve().parents[3] / "tests"
for _module, _file in (("one_tests_sshd", "sshd.py"), ("one_tests_guest", "guest.py")):
    if _module not in sys.modules:
        _spec = importlib.util.spec_from_file_location(_module, _TESTS / _file)
        assert _spec is not None and _spec.loader is not None
        sys.modules[_module] = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(sys.modules[_module])

from one_tests_guest import libvirt_guest  # noqa: E402,F401  (re-exported fixture)
from one_tests_sshd import sshd  # noqa: E402,F401  (re-exported fixture)
