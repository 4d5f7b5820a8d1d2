"""Drivers and front-ends import the core only through ``one_core.api`` (and the kits).

Every ``.py`` under ``plugins/*/one_*/`` and ``frontends/*/one_*/`` (what the
wheels ship, not their tests) is parsed with :mod:`ast`; any ``import
one_core.X`` or ``from one_core.X import ...`` other than ``one_core.api`` fails,
as does ``from one_core import X`` for anything but ``api``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import one_core.api

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"one_core.api"}
"""The one core namespace drivers may import; the kits (``one_driverkit``,
``one_cloudkit``) are distributions of their own and are not ``one_core``."""


def shipped_modules() -> list[Path]:
    """Every module of every driver and front-end package."""
    found = []
    for group in ("plugins", "frontends"):
        for package in sorted((ROOT / group).glob("*/one_*")):
            if package.is_dir():
                found.extend(sorted(package.rglob("*.py")))
    return found


def core_imports(source: str, filename: str = "<test>") -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every import of the core in ``source`` outside the API."""
    bad = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "one_core":
                names = [f"one_core.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        else:
            continue
        for name in names:
            if (name == "one_core" or name.startswith("one_core.")) and name not in ALLOWED:
                bad.append((node.lineno, name))
    return bad


MODULES = shipped_modules()


def test_every_driver_and_front_end_is_scanned() -> None:
    packages = {p.relative_to(ROOT).parts[:3] for p in MODULES}
    expected = {
        p.relative_to(ROOT).parts
        for group in ("plugins", "frontends")
        for p in (ROOT / group).glob("*/one_*")
        if p.is_dir()
    }
    assert packages == expected
    assert len(expected) >= 14  # 11 drivers + 3 front-ends today


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_only_the_api(path: Path) -> None:
    bad = core_imports(path.read_text(encoding="utf-8"), str(path))
    assert not bad, "\n".join(
        f"{path.relative_to(ROOT)}:{line}: imports {name}; use one_core.api" for line, name in bad
    )


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from one_core.api import DriverError", []),
        ("import one_core.api", []),
        ("from one_core import api", []),
        ("from one_driverkit.remote import RunResult", []),
        ("from one_core.errors import DriverError", [(1, "one_core.errors")]),
        ("from one_core import cnum", [(1, "one_core.cnum")]),
        ("import one_core", [(1, "one_core")]),
        ("import os, one_core.template.model", [(1, "one_core.template.model")]),
        ("def f():\n    from one_core.records import VMRecord\n", [(2, "one_core.records")]),
        (
            "if TYPE_CHECKING:\n    from one_core.context import DriverContext\n",
            [(2, "one_core.context")],
        ),
        ("from .one_core import x", []),
    ],
)
def test_the_scanner_catches_every_form(source: str, expected: list[tuple[int, str]]) -> None:
    assert core_imports(source) == expected


def test_api_all_names_exist() -> None:
    missing = [name for name in one_core.api.__all__ if not hasattr(one_core.api, name)]
    assert not missing
    assert len(set(one_core.api.__all__)) == len(one_core.api.__all__)


def test_every_api_name_is_used_or_documented() -> None:
    """Each name of the API is imported by a driver, front-end or kit, or named in the driver guide."""
    guide = (ROOT / "docs" / "writing-a-driver.md").read_text(encoding="utf-8")
    kits = sorted(ROOT.glob("lib/*/one_*/**/*.py"))
    used: set[str] = set()
    for path in [*MODULES, *kits]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "one_core.api":
                used.update(alias.name for alias in node.names)
    unused = [n for n in one_core.api.__all__ if n not in used and f"`{n}" not in guide]
    assert not unused, f"one_core.api names nobody uses nor documents: {unused}"


def test_the_client_is_loaded_on_first_use() -> None:
    """oned imports ``one_core.api`` but never the XML-RPC client's names: importing the
    daemon's modules loads neither ``http.client`` nor its e-mail parser (≈ 0.3 MiB of an
    idle oned, issue 19); naming the client imports it."""
    script = (
        "import sys\n"
        "import one_core.api, one_core.daemon, one_core.engine.setup, one_core.rpc.httpd\n"
        "print(sorted(m for m in ('http.client', 'email.parser', 'one_core.client') if m in sys.modules))\n"
        "from one_core.api import Client, OneClientError\n"
        "print(Client.__module__, OneClientError.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["[]", "one_core.client one_core.client"]
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        one_core.api.Nothing  # noqa: B018
