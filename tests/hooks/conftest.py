"""Fixtures of the hook tests: an argv-recording hook script (``sshd``: the one_core.testing plugin)."""

from __future__ import annotations

import os
import pathlib
import stat

import pytest

RECORDER = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ.get("ARGV_FILE", sys.argv[0] + ".argv"), "a") as fh:
    fh.write(json.dumps(sys.argv[1:]) + "\\n")
print("recorded", len(sys.argv) - 1)
"""


@pytest.fixture
def recorder(tmp_path: pathlib.Path):
    """A hook script writing its arguments (one JSON list per run) to ``<script>.argv``.

    Returns ``(script_path, read)`` where ``read()`` gives the list of argv lists.
    """
    import json

    hooks_dir = tmp_path / "hooks"
    hooks_dir.mkdir()
    script = hooks_dir / "record"
    script.write_text(RECORDER)
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def read() -> list[list[str]]:
        path = pathlib.Path(f"{script}.argv")
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]

    return script, read


@pytest.fixture
def cwd_tmp(tmp_path: pathlib.Path):
    """Run the test in ``tmp_path`` (so a stray ``touch pwned`` would land there)."""
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)
