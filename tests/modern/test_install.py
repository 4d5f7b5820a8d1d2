"""opennebula-cli installs commands named like the 1.4 ones: the environment keeps ours."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest


@pytest.mark.parametrize("tool", ["onevm", "onehost", "onevnet", "oneuser"])
def test_the_1_4_commands_are_ours(tool: str) -> None:
    script = Path(sysconfig.get_path("scripts")) / tool
    assert f"one_core.cli.{tool}" in script.read_text(), (
        f"{script} is not OpenNebula-py's {tool} (opennebula-cli's overwrote it): run "
        "`bash scripts/uv.sh sync --all-packages --inexact --reinstall-package one-core`"
    )


def test_the_modern_one_command_is_there() -> None:
    script = Path(sysconfig.get_path("scripts")) / "one"
    assert "opennebula_cli" in script.read_text()
