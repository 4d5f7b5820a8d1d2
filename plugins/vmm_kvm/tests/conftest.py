"""Fixtures of the KVM driver tests: the shared test sshd and the real-guest kit."""

from __future__ import annotations

from tests.driver_test_helpers import load_shared, sshd  # noqa: F401  (re-exported fixture)

libvirt_guest = load_shared("guest").libvirt_guest
