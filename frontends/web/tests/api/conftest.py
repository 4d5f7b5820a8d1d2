"""The API the dashboard adds to oned runs on SQLite and PostgreSQL (``--one-db``)."""

from one_core.testing.databases import parametrize_databases as pytest_generate_tests

__all__ = ["pytest_generate_tests"]
