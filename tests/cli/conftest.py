"""Fixtures of the CLI tests: a scripted XML-RPC server and a runner for the tools.

``run(tool, *args)`` runs ``python -m one_core.cli.<tool>`` as a subprocess with ``ONE_AUTH``
(``oneadmin:onepass``), ``ONE_XMLRPC`` pointing at the fake server, ``TZ=UTC`` and a fixed
clock (``ONE_CLI_NOW``), and returns a :class:`Result` with the exact stdout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_oned import FakeOned  # noqa: E402


@dataclass
class Result:
    rc: int
    out: str
    err: str


class Runner:
    """Runs a tool against a server URL with a given credentials file."""

    def __init__(self, url: str, auth_file: Path, cwd: Path):
        self.url = url
        self.auth_file = auth_file
        self.cwd = cwd
        self.now: int | None = None

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(ONE_AUTH=str(self.auth_file), ONE_XMLRPC=self.url, TZ="UTC")
        env.pop("ONE_CLI_NOW", None)
        if self.now is not None:
            env["ONE_CLI_NOW"] = str(self.now)
        env.update(extra)
        return env

    def __call__(
        self, tool: str, *args: str, now: int | None = None, stdin: str = "", **env: str
    ) -> Result:
        if now is not None:
            self.now = now
        proc = subprocess.run(
            [sys.executable, "-m", f"one_core.cli.{tool}", *args],
            env=self.env(**env),
            cwd=self.cwd,
            input=stdin.encode(),
            capture_output=True,
            timeout=60,
        )
        return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.fixture
def fake() -> Iterator[FakeOned]:
    server = FakeOned().start()
    yield server
    server.stop()


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    path = tmp_path / "one_auth"
    path.write_text("oneadmin:onepass\n")
    return path


@pytest.fixture
def run(fake: FakeOned, auth_file: Path, tmp_path: Path) -> Runner:
    return Runner(fake.url, auth_file, tmp_path)
