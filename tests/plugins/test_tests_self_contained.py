"""Every plugin's and front-end's ``tests/`` stands on its own distribution and one_core.testing.

A driver's test suite must run from its own wheel (see test_third_party_tests.py),
so it may not load files of the repository's ``tests/`` directory: no
``spec_from_file_location``, no ``import tests...``, no path built from the
repository root to ``tests/``. Fixtures come from the ``one_core.testing`` plugin.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FORBIDDEN = {
    "loads a file by path": re.compile(r"spec_from_file_location|SourceFileLoader|runpy\.run_path"),
    "imports the repository's tests package": re.compile(
        r"^\s*(?:from|import)\s+tests(?:\.|\s|$)", re.MULTILINE
    ),
    "uses a module loaded from the repository's tests/": re.compile(r"\bone_tests_\w+"),
    "builds a path to the repository's tests/": re.compile(
        r"(?:REPO|ROOT|parents\[\d+\])\s*/\s*[\"']tests[\"']"
    ),
}


def suite_files() -> list[Path]:
    """The Python files of every ``plugins/*/tests`` and ``frontends/*/tests``."""
    found = [
        path
        for pattern in ("plugins/*/tests", "frontends/*/tests")
        for folder in sorted(ROOT.glob(pattern))
        for path in sorted(folder.rglob("*.py"))
    ]
    assert found, "no plugin or front-end tests found"
    return found


def violations(text: str) -> list[str]:
    """What in ``text`` reaches into the repository's tests/ (empty: nothing)."""
    return [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]


@pytest.mark.parametrize(
    "snippet",
    [
        'spec = importlib.util.spec_from_file_location("x", REPO / "tests" / "conftest.py")',
        "from tests.driver_test_helpers import pool, sshd",
        "import tests.engine_harness",
        "from one_tests_guest import MARKER_UP",
        'path = Path(__file__).resolve().parents[3] / "tests" / "cloud_fixtures.py"',
    ],
)
def test_the_scan_finds_each_kind_of_load(snippet: str) -> None:
    assert violations(snippet), snippet


def test_the_scan_accepts_the_kit_and_own_files() -> None:
    text = (
        "from one_core.testing.drivers import pool\n"
        "from one_core.testing.guest import MARKER_UP\n"
        'FIXTURES = Path(__file__).parent / "fixtures"\n'
        "from .conftest import Stack\n"
    )
    assert violations(text) == []


def test_plugin_and_frontend_tests_use_only_one_core_testing() -> None:
    found = {
        str(path.relative_to(ROOT)): bad
        for path in suite_files()
        if (bad := violations(path.read_text(encoding="utf-8")))
    }
    assert found == {}, found
