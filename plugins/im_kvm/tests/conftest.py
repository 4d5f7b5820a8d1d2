"""Fixtures: the shared test sshd (tests/sshd.py)."""

from __future__ import annotations

from tests.driver_test_helpers import pool, sshd  # noqa: F401  (re-exported fixtures)
