"""opennebula-cli in a virtualenv of its own, built once and kept under ``.cache/``.

opennebula-cli installs commands named like the 1.4 ones (``onevm``, ``onehost``,
``onevnet``, ``oneuser``); in the project's environment they would replace
OpenNebula-py's. The tests therefore run it from its own environment, as a user
who installs it with ``pipx``/``uv tool`` would.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path

ONE_CLI_REQUIREMENT = "opennebula-cli==7.4.0"
"""The version the tests were written against (it also checks the server's version)."""

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".cache" / "tools"


def _uv() -> list[str]:
    return ["bash", str(ROOT / "scripts" / "uv.sh")]


def one_cli_python() -> Path:
    """The Python of a virtualenv holding :data:`ONE_CLI_REQUIREMENT` (built when missing)."""
    venv = TOOLS / ONE_CLI_REQUIREMENT.replace("==", "-")
    python = venv / "bin" / "python"
    TOOLS.mkdir(parents=True, exist_ok=True)
    with open(TOOLS / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs build it once
        if (venv / ".complete").exists():
            return python
        subprocess.run(
            [*_uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], check=True
        )
        subprocess.run(
            [*_uv(), "pip", "install", "--quiet", "--python", str(python), ONE_CLI_REQUIREMENT],
            check=True,
        )
        (venv / ".complete").write_text(ONE_CLI_REQUIREMENT + "\n")
    return python
