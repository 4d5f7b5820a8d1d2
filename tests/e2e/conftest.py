"""Fixtures of the oned-level end-to-end tests.

``moto_url``, ``ec2``, ``ami``, ``throttling_server`` and ``oned_factory`` come
from the ``one_core.testing`` pytest plugin; every test here that starts an
oned runs on SQLite and on PostgreSQL (``db_backend``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from one_core.testing.databases import parametrize_databases as pytest_generate_tests  # noqa: F401

from .cli_runner import Cli


@pytest.fixture
def cli(oned: Any) -> Iterator[Cli]:
    """The CLI runner on the test's oned."""
    c = Cli(oned)
    yield c
    c.rpc.close()
