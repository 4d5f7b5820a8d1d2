"""A third-party driver's own test suite runs from its wheel with one_core.testing's fixtures.

one-core, the dummy drivers, the rank scheduler and the fixture driver
``tests/fixtures/one-vmm-hello`` are built as wheels and pip-installed into a
fresh ``python -m venv`` (dependencies from the package index). The driver's
``tests/`` (no conftest: ``oned_factory`` and ``recording_driver`` come from
one-core's ``pytest11`` plugin) is copied out of the repository and run with
that venv's ``pytest``: it passes, and fails once the installed driver is broken.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "tests" / "fixtures" / "one-vmm-hello"
DISTRIBUTIONS = (ROOT, ROOT / "plugins" / "dummy", ROOT / "plugins" / "sched_rank", HELLO)

pytestmark = pytest.mark.timeout(900)


def _uv() -> list[str]:
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{cmd} failed:\n{result.stdout}\n{result.stderr}")
    return result


def _clean_env() -> dict[str, str]:
    """This environment without the repository's venv, ONE_* settings and Python path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONE_", "PYTEST_"))}
    for key in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"):
        env.pop(key, None)
    return env


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the four wheels and pytest installed by pip."""
    base = tmp_path_factory.mktemp("driver-suite")
    wheels = base / "wheels"
    for dist in DISTRIBUTIONS:
        _run([*_uv(), "build", "--wheel", "--quiet", "--out-dir", str(wheels), str(dist)])
    env_dir = base / "venv"
    _run([sys.executable, "-m", "venv", str(env_dir)])
    python = env_dir / "bin" / "python"
    _run(
        [str(python), "-m", "pip", "install", "--quiet", *map(str, sorted(wheels.glob("*.whl")))]
        + ["pytest"],
        env=_clean_env(),
    )
    return env_dir


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """The driver's tests and pyproject, outside the repository (nothing else to lean on)."""
    folder = tmp_path / "one-vmm-hello"
    shutil.copytree(HELLO / "tests", folder / "tests")
    shutil.copy(HELLO / "pyproject.toml", folder / "pyproject.toml")
    return folder


def run_suite(venv: Path, suite: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests"],
        cwd=suite,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def installed_driver(venv: Path) -> Path:
    out = _run(
        [str(venv / "bin" / "python"), "-c", "import one_vmm_hello; print(one_vmm_hello.__file__)"],
        env=_clean_env(),
        cwd=venv,
    )
    path = Path(out.stdout.strip())
    assert path.is_relative_to(venv), path  # the wheel's copy, not the repository's source
    return path


def test_driver_suite_passes_with_the_plugin_fixtures(venv: Path, suite: Path) -> None:
    result = run_suite(venv, suite)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout, result.stdout


def test_driver_suite_fails_when_the_driver_is_broken(venv: Path, suite: Path) -> None:
    module = installed_driver(venv)
    original = module.read_text()
    working = 'return f"hello-{vid}"'
    assert working in original
    module.write_text(original.replace(working, 'raise DriverError("broken on purpose")'))
    try:
        result = run_suite(venv, suite)
    finally:
        module.write_text(original)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "2 failed, 1 passed" in result.stdout, result.stdout
