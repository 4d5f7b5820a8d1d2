"""The oned process: start-up order, lock, log, bootstrap, shutdown, crash safety (spec §9)."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
import sys

import pytest

S = "oneadmin:" + hashlib.sha1(b"onepass").hexdigest()
LOG_LINE = re.compile(r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \[\w+\]\[[EWID]\]: ")


def run_oned(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "one_core.daemon", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_version_usage_and_list_drivers():
    r = run_oned("-v")
    assert r.returncode == 0 and r.stdout.startswith("OpenNebula 1.4.0")
    r = run_oned("-x")
    assert r.returncode == 1 and "usage: oned [-h] [-v] [-f]" in r.stderr
    r = run_oned("--list-drivers")
    assert r.returncode == 0
    assert "one.im:" in r.stdout and "dummy" in r.stdout


def test_second_daemon_is_refused(oned, oned_factory):
    second = oned_factory(location=oned.location, start=False)
    second.start(wait=False)
    assert second.proc.wait(30) == 1
    assert (
        f"Error: Can not start oned, opening lock file {oned.location}/var/.lock" in second.stderr()
    )
    # the first one is unaffected, its lock is still there
    assert oned.call("one.hostpool.info", S)[0] is True
    assert (oned.var / ".lock").read_text().strip() == str(oned.proc.pid)


def test_clean_stop_logs_and_removes_lock(oned):
    lock = oned.var / ".lock"
    assert lock.exists()
    assert oned.stop() == 0
    assert not lock.exists()
    text = oned.log()
    assert "Bootstraping OpenNebula database." in text
    assert text.rstrip().endswith("All modules finalized, exiting.")
    lines = [ln for ln in text.splitlines() if LOG_LINE.match(ln)]
    assert len(lines) >= 3
    assert (oned.var / "one.db").exists()


def test_sigint_stops_too(oned):
    import signal

    oned.proc.send_signal(signal.SIGINT)
    assert oned.proc.wait(20) == 0


def test_restart_does_not_bootstrap_again(oned):
    oned.auth_file.write_text("other:pw\n")  # not read: the user table is not empty
    oned.restart()
    assert oned.log().count("Bootstraping OpenNebula database.") == 1
    assert oned.call("one.userpool.info", S)[0] is True


def test_bootstrap_name_is_free_and_gets_uid0(oned_factory, tmp_path):
    auth = tmp_path / "auth"
    auth.write_text("admin:secret\nsecond:line\n")
    o = oned_factory(env={"ONE_AUTH": str(auth)})
    session = "admin:" + hashlib.sha1(b"secret").hexdigest()
    ok, body = o.call("one.user.info", session, 0)
    assert ok is True and "<NAME>admin</NAME>" in body
    assert o.call("one.user.info", S, 0)[0] is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Cloud not open file: {path}"),
        ("", "Error reading file: {path}"),
        ("no colon here\n", "Wrong format must be <username>:<password>"),
    ],
)
def test_bootstrap_failures_abort(oned_factory, tmp_path, content, message):
    auth = tmp_path / "auth-file"
    if content is not None:
        auth.write_text(content)
    o = oned_factory(env={"ONE_AUTH": str(auth)}, start=False)
    o.start(wait=False)
    assert o.proc.wait(30) != 0
    expected = message.format(path=auth)
    assert expected in o.stderr()
    assert expected in o.log()


def test_kill9_then_restart_keeps_every_committed_object(oned):
    for i in range(30):
        assert oned.call("one.host.allocate", S, f"h{i}", "im_dummy", "vmm_dummy", "tm_dummy") == [
            True,
            i,
        ]
    for i in range(5):
        assert oned.call("one.user.allocate", S, f"u{i}", "pw")[0] is True
    oned.call("one.host.enable", S, 3, False)
    hosts = oned.call("one.hostpool.info", S)
    users = oned.call("one.userpool.info", S)
    oned.kill9()
    assert (oned.var / ".lock").exists()  # stale lock left behind
    oned.start()
    assert oned.call("one.hostpool.info", S) == hosts
    assert oned.call("one.userpool.info", S) == users
    assert oned.call("one.host.allocate", S, "next", "a", "b", "c") == [True, 30]


def test_port_in_use(oned_factory):
    o = oned_factory(start=False)
    with socket.socket() as s:
        s.bind(("0.0.0.0", o.port))
        s.listen(1)
        o.start(wait=False)
        assert o.proc.wait(30) == 1
    assert f"Can not bind to port {o.port}" in o.stderr()
    assert "Could not start the Request Manager" in o.log()
    assert not (o.var / ".lock").exists()


def test_unknown_driver_stops_startup_before_the_port_opens(oned_factory):
    o = oned_factory(
        start=False,
        sections='IM_MAD = [ name = "im_x", driver = "no_such_driver" ]\n',
    )
    o.start(wait=False)
    assert o.proc.wait(30) == 1
    assert "no_such_driver" in o.stderr()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", o.port), timeout=1).close()


def test_debug_level_filters_log(oned_factory):
    o = oned_factory(DEBUG_LEVEL=0)
    o.call("one.user.info", S, 99)  # an error: logged at every level
    o.stop()
    text = o.log()
    assert "[ReM][E]: Error getting user" in text
    assert "[I]:" not in text and "[D]:" not in text


def test_one_location_layout(oned):
    assert os.path.exists(oned.var / "oned.log")
    assert os.path.exists(oned.var / "one.db")
