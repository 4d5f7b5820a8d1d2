"""``occi-server {start|stop}`` (spec cloud-apis §1.6): messages, pid file, exit codes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys

from one_core.testing.cloud import free_port, wait_until

BIN = os.path.join(os.path.dirname(sys.executable), "occi-server")


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BIN, *args], env=env, capture_output=True, text=True, timeout=60)


def test_start_stop_usage(stack, tmp_path):
    port = free_port()
    loc = tmp_path / "one"
    (loc / "etc" / "occi_templates").mkdir(parents=True)
    (loc / "etc" / "occi-server.conf").write_text(
        f"PASSWORD=onepass\nSERVER=127.0.0.1\nPORT={port}\n"
        f"DATABASE={loc}/var/occi.db\nIMAGE_DIR={loc}/images\n"
    )
    env = dict(stack.server.env, ONE_LOCATION=str(loc))

    out = _run(["bogus"], env)
    assert (out.returncode, out.stderr) == (3, "Usage: occi-server {start|stop}\n")
    out = _run(["stop"], env)
    assert (out.returncode, out.stdout) == (1, "Couldn't find occi-server process pid.\n")

    out = _run(["start"], env)
    assert (out.returncode, out.stdout) == (0, "occi-server started\n"), out.stderr
    pid_file = loc / "var" / "occi-server.pid"
    pid = int(pid_file.read_text())
    try:
        wait_until(lambda: _connects(port), 30, "occi-server port")
        import requests

        resp = requests.get(f"http://127.0.0.1:{port}/compute", auth=("oneadmin", "x"), timeout=30)
        assert resp.status_code == 401
        out = _run(["stop"], env)
        assert (out.returncode, out.stdout) == (0, "occi-server stopped\n")
        assert not pid_file.exists()
        wait_until(lambda: not _alive(pid), 30, "occi-server exit")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    log = (loc / "var" / "occi-server.log").read_text()
    assert "occi-server configuration" in log
    assert "onepass" not in log

    (loc / "etc" / "occi-server.conf").write_text("PORT=1\n")
    out = _run(["start"], env)
    assert out.returncode == 1
    assert "DB not defined" in out.stderr


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
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True
