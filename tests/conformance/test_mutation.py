"""Mutation check: the conformance replay fails when any RPC method module is deleted.

The project (without ``.venv`` and ``.git``) is copied once into a temporary directory.
A control run of ``test_wire_replay.py`` in the copy must pass (so a failure below is
caused by the mutation, not by the copy); then, for each ``one_core/rpc/*_methods.py``,
the copy is mutated and the replay is run again in a subprocess that imports
``one_core`` from the copy (``PYTHONPATH``; the oned it starts inherits it):

* ``file``: the module file is deleted. oned refuses to start or a capture
  mismatches: either way the run must exit non-zero and report failures or errors,
  never skips or xfails.
* ``unregistered``: the file is deleted **and** every ``import`` of it in
  ``one_core`` is dropped, so oned starts without those methods: the replay itself
  must fail with ``method not registered``.

``-x`` stops each run at the first failure, which keeps the whole check short.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).parents[2]
REPLAY = "tests/conformance/test_wire_replay.py"
METHOD_MODULES = sorted(p.name for p in (PROJECT / "one_core" / "rpc").glob("*_methods.py"))
IGNORED = shutil.ignore_patterns(
    ".venv",
    ".git",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "demo",
)
MODES = ("file", "unregistered")


def import_lines(module: str) -> re.Pattern[str]:
    """Lines importing ``one_core.rpc.<module>`` (any of the three spellings)."""
    name = re.escape(module.removesuffix(".py"))
    return re.compile(
        rf"^[ \t]*(import one_core\.rpc\.{name}\b|from one_core\.rpc\.{name} import\b"
        rf"|from one_core\.rpc import .*\b{name}\b).*$",
        re.M,
    )


SUMMARY = re.compile(r"^=*\s*(.*\bin [\d.]+s.*?)\s*=*$", re.M)


def run_replay(copy: Path) -> tuple[int, str]:
    """Run the wire replay of ``copy`` with ``one_core`` imported from ``copy``."""
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", REPLAY, "-x", "-q", "-p", "no:cacheprovider"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc.returncode, proc.stdout + proc.stderr


def summary(output: str) -> str:
    """pytest's final ``N passed, M failed in Ts`` line."""
    found = SUMMARY.findall(output)
    return found[-1] if found else ""


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the project whose own conformance replay passes."""
    copy = tmp_path_factory.mktemp("mutation") / "project"
    shutil.copytree(PROJECT, copy, ignore=IGNORED, symlinks=True)
    rc, output = run_replay(copy)
    assert rc == 0, f"control run of the unmodified copy failed:\n{output[-4000:]}"
    assert "skipped" not in summary(output) and "xfail" not in summary(output), output[-2000:]
    yield copy


def test_every_method_module_is_covered() -> None:
    """The set of modules is found (an empty parametrisation would prove nothing)."""
    assert {"host_methods.py", "user_methods.py", "vm_methods.py", "vnet_methods.py"} <= set(
        METHOD_MODULES
    )


def drop_imports(copy: Path, module: str) -> dict[Path, bytes]:
    """Replace every import of ``module`` under ``copy/one_core`` with ``pass``.

    Returns the original bytes of the files changed (at least one: an unchanged
    copy would test nothing).
    """
    pattern = import_lines(module)
    changed: dict[Path, bytes] = {}
    for path in (copy / "one_core").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        new = pattern.sub(
            lambda m: m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip())] + "pass", text
        )
        if new != text:
            changed[path] = text.encode("utf-8")
            path.write_text(new, encoding="utf-8")
    assert changed, f"no import of {module} found in one_core: update this test"
    return changed


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("module", METHOD_MODULES)
def test_conformance_fails_without(project_copy: Path, module: str, mode: str) -> None:
    """Deleting ``one_core/rpc/<module>`` makes the conformance replay fail."""
    path = project_copy / "one_core" / "rpc" / module
    saved = {path: path.read_bytes()}
    path.unlink()
    try:
        if mode == "unregistered":
            saved.update(drop_imports(project_copy, module))
        rc, output = run_replay(project_copy)
    finally:
        for changed, data in saved.items():
            changed.write_bytes(data)
    line = summary(output)
    assert rc != 0, f"conformance still passes without {module}:\n{output[-3000:]}"
    assert re.search(r"\d+ (failed|errors?)\b", line), f"no failure reported:\n{output[-3000:]}"
    assert "skipped" not in line and "xfail" not in line, line
    if mode == "unregistered":
        assert "method not registered" in output, output[-3000:]
