"""``econe-server {start|stop}`` (spec cloud-apis §1.6): messages, pid file, exit codes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from one_core.testing.cloud import free_port, wait_until

BIN = Path(sys.executable).parent / "econe-server"


def _connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=60)


def test_start_stop_usage(tmp_path):
    port = free_port()
    loc = tmp_path / "one"
    (loc / "etc" / "ec2query_templates").mkdir(parents=True)
    (loc / "etc" / "econe.conf").write_text(
        f"PASSWORD=onepass\nSERVER=127.0.0.1\nPORT={port}\nDATABASE={loc}/var/econe.db\nIMAGE_DIR={loc}/images\n"
    )
    env = dict(os.environ, ONE_LOCATION=str(loc), ONE_XMLRPC="http://127.0.0.1:1/RPC2")

    out = _run(["bogus"], env)
    assert (out.returncode, out.stderr) == (3, "Usage: econe-server {start|stop}\n")

    out = _run(["stop"], env)
    assert (out.returncode, out.stdout) == (1, "Couldn't find econe-server process pid.\n")

    out = _run(["start"], env)
    assert (out.returncode, out.stdout) == (0, "econe-server started\n"), out.stderr
    pid_file = loc / "var" / "econe-server.pid"
    pid = int(pid_file.read_text())
    assert (loc / "images" / "tmp").is_dir()
    try:
        wait_until(lambda: _connects(port), 30, "econe-server port")
        out = _run(["stop"], env)
        assert (out.returncode, out.stdout) == (0, "econe-server stopped\n")
        assert not pid_file.exists()
        wait_until(lambda: not _alive(pid), 30, "econe-server exit")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    log = (loc / "var" / "econe-server.log").read_text()
    assert "econe-server configuration" in log
    assert "onepass" not in log

    (loc / "etc" / "econe.conf").write_text("PORT=1\n")
    out = _run(["start"], env)
    assert out.returncode == 1
    assert "DB not defined" in out.stderr
