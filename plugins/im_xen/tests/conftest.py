"""Fixtures of the Xen IM tests: the shared test sshd (tests/sshd.py)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

_SSHD = pathlib.Path(__file__).resolve().parents[3] / "tests" / "sshd.py"
if "one_tests_sshd" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("one_tests_sshd", _SSHD)
    assert _spec is not None and _spec.loader is not None
    sys.modules["one_tests_sshd"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["one_tests_sshd"])

from one_tests_sshd import sshd  # noqa: E402,F401  (re-exported fixture)
