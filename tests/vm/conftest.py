"""VM tests: the engine-level ``env`` fixture, shared; every test that uses a database
(``env``, ``oned``...) runs on SQLite and on PostgreSQL."""

from one_core.testing.databases import parametrize_databases as pytest_generate_tests  # noqa: F401
from tests.engine.conftest import env  # noqa: F401  (engine-level fixture, shared)
