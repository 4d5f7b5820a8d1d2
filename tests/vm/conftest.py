from tests.engine.conftest import env  # noqa: F401  (engine-level fixture, shared)
