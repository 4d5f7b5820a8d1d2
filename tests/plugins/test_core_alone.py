"""The core is slim: one-core alone pulls and imports no SSH, ISO, EC2 or lxml code.

* one-core's wheel is built and installed with its declared dependencies into
  a fresh virtualenv: none of fabric, paramiko, pycdlib, boto3 or lxml gets
  installed, and importing the core's packages works there.
* a real oned with the dummy drivers (in the project's venv, where all of them
  are installed) runs a VM with a CONTEXT to RUNNING; Python's import log
  (``PYTHONPROFILEIMPORTTIME``) shows it never imported any of them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("fabric", "paramiko", "invoke", "pycdlib", "boto3", "botocore", "lxml")
"""Libraries of the kits and of the EC2/KVM drivers, never needed by the core."""

CORE_PACKAGES = (
    "one_core",
    "one_core.api",
    "one_core.daemon",
    "one_core.drivers",
    "one_core.engine",
    "one_core.rpc.app",
    "one_core.vm_context",
    "one_core.remote_access",
)


def _uv() -> list[str]:
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{cmd} failed:\n{result.stdout}\n{result.stderr}")
    return result


def imported_modules(import_log: str) -> set[str]:
    """Top-level names of the modules in a ``-X importtime`` log."""
    names = set()
    for line in import_log.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name and name != "imported package":
                names.add(name.split(".")[0])
    return names


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory) -> Path:
    """A fresh virtualenv holding one-core's wheel and its declared dependencies only."""
    base = tmp_path_factory.mktemp("core-alone")
    wheels = base / "wheels"
    _run([*_uv(), "build", "--wheel", "--quiet", "--out-dir", str(wheels), str(ROOT)])
    (wheel,) = wheels.glob("one_core-*.whl")
    env_dir = base / "venv"
    _run([*_uv(), "venv", "--quiet", "--python", sys.executable, str(env_dir)])
    _run(
        [
            *_uv(),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(env_dir / "bin" / "python"),
            str(wheel),
        ]
    )
    return env_dir


def test_installing_one_core_pulls_none_of_them(core_venv: Path) -> None:
    listed = _run([*_uv(), "pip", "list", "--python", str(core_venv / "bin" / "python")]).stdout
    installed = {line.split()[0].lower() for line in listed.splitlines()[2:] if line.strip()}
    assert "one-core" in installed
    assert "pluggy" in installed  # the list is real
    assert not installed & {"fabric", "paramiko", "invoke", "pycdlib", "boto3", "botocore", "lxml"}
    assert not installed & {"one-driverkit", "one-cloudkit"}


def test_the_core_imports_without_them(core_venv: Path) -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CORE_PACKAGES!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = _run([str(core_venv / "bin" / "python"), "-c", code], env=env, cwd=str(core_venv)).stdout
    assert out.strip() == "[]"


def test_remote_without_the_kit_is_a_clear_driver_error(core_venv: Path) -> None:
    code = (
        "from one_core.remote_access import SharedRemote\n"
        "from one_core.api import DriverError\n"
        "remote = SharedRemote().factory({})\n"
        "try:\n"
        "    remote('node1')\n"
        "except DriverError as exc:\n"
        "    print(exc)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = _run([str(core_venv / "bin" / "python"), "-c", code], env=env, cwd=str(core_venv)).stdout
    assert "install one-driverkit" in out


def test_oned_with_the_dummy_drivers_never_imports_them(oned_factory) -> None:
    oned = oned_factory(env={"PYTHONPROFILEIMPORTTIME": "1"})
    client = oned.client()
    try:
        hid = client.host_allocate("node1", "im_dummy", "vmm_dummy", "tm_dummy")
        vid = client.vm_allocate(
            'NAME = ctx\nMEMORY = 64\nCONTEXT = [ HOSTNAME = "$NAME", TOKEN = "a\\"b `id`" ]\n'
        )
        client.vm_deploy(vid, hid)
        deadline = time.monotonic() + 30
        while client.vm_info(vid).findtext("LCM_STATE") != "3":
            assert time.monotonic() < deadline, "the VM did not reach RUNNING"
            time.sleep(0.2)
    finally:
        client.close()
    context_sh = (oned.var / str(vid) / "context.sh").read_text()
    assert 'HOSTNAME="ctx"\n' in context_sh
    assert 'TOKEN="a\\"b \\`id\\`"\n' in context_sh  # quoted by the one rule
    oned.stop()
    modules = imported_modules(oned.stderr())
    assert {"one_core", "one_drivers_dummy", "pluggy"} <= modules  # the log is real
    assert not modules & set(HEAVY)
