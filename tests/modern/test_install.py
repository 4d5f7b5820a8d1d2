"""opennebula-cli installs commands named like the 1.4 ones: it lives in a venv of its own."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from .one_cli_env import one_cli_python


@pytest.mark.parametrize("tool", ["onevm", "onehost", "onevnet", "oneuser"])
def test_the_1_4_commands_are_ours(tool: str) -> None:
    script = Path(sysconfig.get_path("scripts")) / tool
    assert f"one_core.cli.{tool}" in script.read_text(), (
        f"{script} is not OpenNebula-py's {tool}: opennebula-cli must not be installed in the "
        "project's environment (tests/modern/one_cli_env.py gives it one of its own)"
    )


def test_the_modern_one_command_is_in_its_own_venv() -> None:
    script = one_cli_python().parent / "one"
    assert "opennebula_cli" in script.read_text()
