"""A third party's driver, built as a wheel and pip-installed into a fresh virtualenv.

This is the whole plugin story end to end: a distribution under
``tests/fixtures/`` with its own pyproject and entry point in ``one.vmm`` is
built, installed with pip next to one-core, selected by name in an
oned.conf, and loaded and validated the way oned does at start-up. Broken
drivers (another fixture distribution) must each be refused with a message
that names the problem.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def _uv() -> list[str]:
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{cmd} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh virtualenv with one-core, the dummy drivers and the fixture wheels (via pip)."""
    base = tmp_path_factory.mktemp("thirdparty")
    wheels = base / "wheels"
    for dist in ("one-vmm-hello", "one-bad-drivers"):
        _run(
            [*_uv(), "build", "--wheel", "--quiet", "--out-dir", str(wheels), str(FIXTURES / dist)]
        )
    env_dir = base / "venv"
    _run([*_uv(), "venv", "--quiet", "--seed", "--python", sys.executable, str(env_dir)])
    python = env_dir / "bin" / "python"
    _run(
        [
            *_uv(),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            str(ROOT),
            str(ROOT / "plugins" / "dummy"),
            str(ROOT / "plugins" / "sched_rank"),
        ]
    )
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            *map(str, sorted(wheels.glob("*.whl"))),
        ]
    )
    return env_dir


def check(venv: Path, tmp_path: Path, vm_mad: str) -> subprocess.CompletedProcess:
    (tmp_path / "etc").mkdir(exist_ok=True)
    conf = tmp_path / "etc" / "oned.conf"
    conf.write_text(
        'IM_MAD = [ name = "im_dummy", driver = "dummy" ]\n'
        f"VM_MAD = [ {vm_mad} ]\n"
        'TM_MAD = [ name = "tm_dummy", driver = "dummy" ]\n'
    )
    env = {**os.environ, "ONE_LOCATION": str(tmp_path)}
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(venv / "bin" / "onedrivers"), "--check", str(conf)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_installed_wheel_is_listed_with_its_distribution(venv):
    out = _run([str(venv / "bin" / "onedrivers")]).stdout
    assert "hello        one_vmm_hello" in out
    assert "(one-vmm-hello 1.0.0)" in out


def test_oned_conf_naming_the_driver_loads_it(venv, tmp_path):
    result = check(venv, tmp_path, 'name = "vmm_hello", driver = "hello"')
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("vmm"))
    assert line.split()[:3] == ["vmm", "vmm_hello", "hello"]
    assert "vmm_deploy" in line and "vmm_save" not in line


def test_misnamed_driver_fails_and_lists_installed(venv, tmp_path):
    result = check(venv, tmp_path, 'name = "vmm_x", driver = "helo"')
    assert result.returncode == 1
    assert "unknown driver 'helo' in entry-point group one.vmm" in result.stderr
    assert "installed: broken, dummy, hello, incomplete, nospec" in result.stderr


def test_hookimpl_without_spec_fails(venv, tmp_path):
    result = check(venv, tmp_path, 'name = "vmm_x", driver = "nospec"')
    assert result.returncode == 1
    assert "vmm_reboot" in result.stderr and "unknown hook" in result.stderr


def test_missing_required_hook_fails(venv, tmp_path):
    result = check(venv, tmp_path, 'name = "vmm_x", driver = "incomplete"')
    assert result.returncode == 1
    assert "does not implement the required vmm hook(s): vmm_cancel, vmm_poll" in result.stderr


def test_driver_that_fails_to_import_shows_the_cause(venv, tmp_path):
    result = check(venv, tmp_path, 'name = "vmm_x", driver = "broken"')
    assert result.returncode == 1
    assert "failed to import" in result.stderr
    assert "one_missing_dependency_xyz" in result.stderr
