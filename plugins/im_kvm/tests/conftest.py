"""Fixtures: the ``pool`` of SSH hosts on the test sshd (``one_core.testing``)."""

from __future__ import annotations

from one_core.testing.drivers import pool  # noqa: F401  (re-exported fixture; sshd: the plugin's)
