"""mm_sched: command line, ONE_AUTH, and cycles against a real XML-RPC server.

The server here is a stand-in that answers with the XML of real 1.4 captures.
End-to-end runs against our own oned come with tests/conformance (oned is
being written separately).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

import pytest
from one_sched_rank import mm_sched

from one_core.context import DriverContext

SESSION = "oneadmin:34c629abfcb47856b3d1c0a30798221aefb61605"  # oneadmin:onepass (wire INDEX)
LINE = re.compile(r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \[(\w+)\]\[([EWID])\]: (.*)$")


class _Quiet(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/RPC2",)

    def log_message(self, *args: object) -> None:
        pass


class FakeOned:
    """Answers the five calls mm_sched makes, with 1.4 documents."""

    def __init__(self, wire: Callable[[str], str], wire_response: Callable[[str], list]):
        host0 = wire("20_host_info_monitored")
        self.hosts = {
            0: host0,
            1: self._host(host0, 1, free_cpu=300),
            2: self._host(host0, 2, free_cpu=100),
        }
        self.hostpool = wire("22_hostpool_info_two_hosts")
        self.vmpool = wire("53_vmpool_info_all")
        vm0 = wire("48_vm_info_pending")
        vm1 = vm0.replace("<ID>0</ID>", "<ID>1</ID>", 1).replace(
            "<VMID>0</VMID>", "<RANK>FREECPU</RANK><VMID>1</VMID>"
        )
        vm2 = wire("63_vm_info_running").replace("<ID>0</ID>", "<ID>2</ID>", 1)
        self.vms = {0: vm0, 1: vm1, 2: vm2}
        self.deploys: list[tuple[str, int, int]] = []
        ok = wire_response("62_vm_deploy_ok")
        self.deploy_answer: Callable[[int, int], list] = lambda vid, hid: ok
        self.pool_answer: list | None = None
        self.server = SimpleXMLRPCServer(
            ("127.0.0.1", 0), requestHandler=_Quiet, logRequests=False, allow_none=False
        )
        reg = self.server.register_function
        reg(lambda s: self.pool_answer or [True, self.hostpool], "one.hostpool.info")
        reg(
            lambda s, hid: (
                [True, self.hosts[hid]]
                if hid in self.hosts
                else [False, f"Error getting host with HID = {hid}"]
            ),
            "one.host.info",
        )
        reg(lambda s, flt: [True, self.vmpool], "one.vmpool.info")
        reg(lambda s, vid: [True, self.vms[vid]], "one.vm.info")
        reg(self._deploy, "one.vm.deploy")
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def _host(doc: str, hid: int, free_cpu: int) -> str:
        doc = doc.replace("<ID>0</ID>", f"<ID>{hid}</ID>", 1).replace(
            "<HID>0</HID>", f"<HID>{hid}</HID>"
        )
        return doc.replace("<FREECPU>800</FREECPU>", f"<FREECPU>{free_cpu}</FREECPU>")

    def _deploy(self, session: str, vid: int, hid: int) -> list:
        self.deploys.append((session, vid, hid))
        return self.deploy_answer(vid, hid)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/RPC2"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def oned(wire: Callable[[str], str], wire_response: Callable[[str], list]) -> Iterator[FakeOned]:
    fake = FakeOned(wire, wire_response)
    yield fake
    fake.close()


def _log_lines(path: Path) -> list[tuple[str, str, str]]:
    text = path.read_text()
    out = []
    for raw in re.split(r"\n(?=\w{3} \w{3} [ \d]\d \d\d:)", text.rstrip("\n")):
        m = LINE.match(raw.split("\n", 1)[0])
        assert m, raw
        rest = raw.split("\n", 1)
        msg = m.group(3) + ("\n" + rest[1] if len(rest) > 1 else "")
        out.append((m.group(1), m.group(2), msg))
    return out


def _scheduler(oned: FakeOned, tmp_path: Path) -> tuple[mm_sched.Scheduler, Path]:
    log_path = tmp_path / "sched.log"
    ctx = DriverContext(
        role="sched",
        name="rank",
        log=mm_sched.make_logger(str(log_path)),
        vm_log_func=lambda *a: None,
    )
    return mm_sched.Scheduler(oned.endpoint, SESSION, ctx), log_path


def test_cycle_deploys_and_logs(
    oned: FakeOned, tmp_path: Path, logged_cycle: Callable[[str, str, str], list]
) -> None:
    sched, log_path = _scheduler(oned, tmp_path)
    assert sched.cycle() == 2
    # VM 0: no RANK, all hosts tie → highest id. VM 1: RANK=FREECPU → host 0 (800).
    # VM 2 is listed PENDING by the pool but RUNNING by vm.info: skipped.
    assert oned.deploys == [(SESSION, 0, 2), (SESSION, 1, 0)]
    lines = _log_lines(log_path)
    expected = logged_cycle(
        "0 1 2",
        "0 1",
        "Virtual Machine: 0\n\t0\t2\n\t0\t1\n\t0\t0\n"
        "Virtual Machine: 1\n\t1\t0\n\t0.375\t1\n\t0.125\t2\n",
    )
    assert [line for line in expected if line not in lines] == []
    assert ("RANK", "W", "No rank defined for VM") in lines
    assert lines[-2:] == [
        ("SCHED", "I", "Dispatching virtual machine 0 to HID: 2"),
        ("SCHED", "I", "Dispatching virtual machine 1 to HID: 0"),
    ]


def test_deploy_refused_is_logged_and_the_cycle_goes_on(
    oned: FakeOned, tmp_path: Path, wire_response: Callable[[str], list]
) -> None:
    refused = wire_response("60_vm_deploy_unknown_host")  # [False, "The host 99 does not exists"]
    oned.deploy_answer = lambda vid, hid: refused if vid == 0 else [True]
    sched, log_path = _scheduler(oned, tmp_path)
    assert sched.cycle() == 1
    assert [d[1:] for d in oned.deploys] == [(0, 2), (1, 0)]
    assert (
        "SCHED",
        "E",
        "Error deploying virtual machine 0 to HID: 2. Reason: The host 99 does not exists",
    ) in _log_lines(log_path)


def test_transport_error_aborts_the_dispatch(oned: FakeOned, tmp_path: Path) -> None:
    def boom(vid: int, hid: int) -> list:
        raise RuntimeError("down")

    oned.deploy_answer = boom
    sched, log_path = _scheduler(oned, tmp_path)
    assert sched.cycle() == 0
    assert len(oned.deploys) == 1
    lines = _log_lines(log_path)
    assert lines[-1][:2] == ("SCHED", "E")
    assert lines[-1][2].startswith("Exception raised: ")
    assert log_path.read_text().endswith("\n\n")  # 1.4's message itself ends with '\n'
    assert not any("virtual machine 1" in m for _, _, m in lines)


def test_pool_failure_skips_the_cycle(
    oned: FakeOned, tmp_path: Path, wire_response: Callable[[str], list]
) -> None:
    oned.pool_answer = wire_response("84_hostpool_info_bad_session")
    sched, log_path = _scheduler(oned, tmp_path)
    assert sched.cycle() == 0
    assert oned.deploys == []
    assert _log_lines(log_path) == [
        (
            "SCHED",
            "E",
            "Could not get the pools from oned: one.hostpool.info: User not "
            "authenticated, RequestManagerHostPoolInfo aborted.",
        )
    ]


def test_unreachable_oned_skips_the_cycle(tmp_path: Path) -> None:
    ctx = DriverContext(
        role="sched", name="rank", log=mm_sched.make_logger(str(tmp_path / "sched.log"))
    )
    sched = mm_sched.Scheduler("http://127.0.0.1:9/RPC2", SESSION, ctx)
    assert sched.cycle() == 0
    assert "Could not get the pools" in (tmp_path / "sched.log").read_text()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["mm_sched"], (2633, 30)),
        (["mm_sched", "-p", "1234", "-t", "5"], (1234, 5)),
        (["mm_sched", "-p2634", "-t0"], (2634, 0)),
        (["mm_sched", "-t", "x"], (2633, 0)),
    ],
)
def test_parse_args(argv: list[str], expected: tuple[int, int]) -> None:
    assert mm_sched.parse_args(argv) == expected


@pytest.mark.parametrize(
    ("argv", "stderr"),
    [
        (["mm_sched", "-x"], "mm_sched: invalid option -- 'x'\n"),
        (["mm_sched", "-p"], "mm_sched: option requires an argument -- 'p'\n"),
    ],
)
def test_usage_error(argv: list[str], stderr: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert mm_sched.main(argv) == 255
    err = capsys.readouterr().err
    assert err == stderr + "usage: mm_sched [-p port] [-t timer]\n"


@pytest.mark.parametrize(
    ("content", "result"),
    [
        ("oneadmin:onepass\n", SESSION),
        ("oneadmin:onepass", SESSION),
        ("u:p:q\nother:x\n", "u:" + hashlib.sha1(b"p:q").hexdigest()),
    ],
)
def test_read_session(tmp_path: Path, content: str, result: str) -> None:
    auth = tmp_path / "one_auth"
    auth.write_text(content)
    assert mm_sched.read_session({"ONE_AUTH": str(auth)}) == result


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Could not open $ONE_AUTH file"),
        ("", "Error reading $ONE_AUTH file"),
        ("oneadmin\n", "Wrong format must be <username>:<password>"),
    ],
)
def test_read_session_errors(tmp_path: Path, content: str | None, message: str) -> None:
    auth = tmp_path / "one_auth"
    if content is not None:
        auth.write_text(content)
    with pytest.raises(mm_sched.AuthError, match=re.escape(message)):
        mm_sched.read_session({"ONE_AUTH": str(auth)})


def test_home_one_auth_is_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Pw:
        pw_dir = str(tmp_path)

    monkeypatch.setattr(mm_sched.pwd, "getpwuid", lambda uid: Pw())
    (tmp_path / ".one").mkdir()
    (tmp_path / ".one" / "one_auth").write_text("oneadmin:onepass\n")
    assert mm_sched.read_session({}) == SESSION


def test_locations() -> None:
    assert mm_sched.log_location({"ONE_LOCATION": "/opt/one"}) == "/opt/one/var/sched.log"
    assert mm_sched.log_location({}) == "/var/log/one/sched.log"
    assert mm_sched.vm_log_location(3, {"ONE_LOCATION": "/opt/one"}) == "/opt/one/var/3/vm.log"
    assert mm_sched.vm_log_location(3, {}) == "/var/log/one/3.log"


def _run(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "one_sched_rank.mm_sched", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_process_bad_auth_exits_255(tmp_path: Path) -> None:
    env = {**os.environ, "ONE_LOCATION": str(tmp_path), "ONE_AUTH": str(tmp_path / "nope")}
    proc = _run([], env)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 255
    assert out == "Could not open $ONE_AUTH file\n"


def test_process_runs_cycles_until_sigterm(oned: FakeOned, tmp_path: Path) -> None:
    auth = tmp_path / "one_auth"
    auth.write_text("oneadmin:onepass\n")
    env = {**os.environ, "ONE_LOCATION": str(tmp_path), "ONE_AUTH": str(auth)}
    # mm_sched always talks to localhost:<port>
    proc = _run(["-p", str(oned.port), "-t", "1"], env)
    log_path = tmp_path / "var" / "sched.log"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if log_path.exists() and "Dispatching virtual machine 1" in log_path.read_text():
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    messages = [m for _, _, m in _log_lines(log_path)]
    assert messages[:3] == [
        "Init Scheduler Log system",
        "Starting scheduler loop...",
        "Scheduler loop started.",
    ]
    assert messages[-2:] == ["Stopping the scheduler...", "Scheduler loop stopped."]
    assert (SESSION, 0, 2) in oned.deploys
