"""Fixtures: a fake oned (stdlib XML-RPC on loopback), one-libvirtd in-process or as a
subprocess, and a real oned + mm_sched stack when the repository's tests/conftest.py
provides :class:`OnedProcess`."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer

import pytest
from one_libvirt.domains import Domains
from one_libvirt.oned import ClientOned
from one_libvirt.server import Servers, TCPServer, UnixServer, session_factory_for

from one_core.client import Client
from one_core.template import Template

REPO = Path(__file__).resolve().parents[3]
PASSWORD = "secret"
SESSION = "oneadmin:" + hashlib.sha1(PASSWORD.encode()).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll ``predicate`` until it returns something truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.1)


# -- a fake oned -------------------------------------------------------------------


@dataclass
class FakeVm:
    id: int
    template: Template
    state: int = 1  # PENDING
    lcm_state: int = 0


@dataclass
class FakeOned:
    """The VM calls of 1.4's XML-RPC API, in memory; ``deploy(vid)`` plays the scheduler."""

    vms: dict[int, FakeVm] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _auth(self, session: str) -> None:
        if session != SESSION:
            raise PermissionError

    def allocate(self, session: str, text: str) -> list[Any]:
        try:
            self._auth(session)
        except PermissionError:
            return [False, "User couldn't be authenticated, aborting call."]
        self.calls.append(("allocate", (text,)))
        with self.lock:
            vid = len(self.vms)
            self.vms[vid] = FakeVm(vid, Template.parse(text))
        return [True, vid]

    _MOVES = {
        ("hold", 1): (2, 0),
        ("release", 2): (1, 0),
        ("suspend", 3): (5, 0),
        ("resume", 5): (3, 3),
        ("shutdown", 3): (6, 0),
        ("cancel", 3): (6, 0),
    }

    def action(self, session: str, action: str, vid: int) -> list[Any]:
        try:
            self._auth(session)
        except PermissionError:
            return [False, "User couldn't be authenticated, aborting call."]
        self.calls.append(("action", (action, vid)))
        vm = self.vms.get(vid)
        if vm is None:
            return [False, f"Error getting VM {vid}"]
        if action == "finalize":
            vm.state, vm.lcm_state = 6, 0
            return [True]
        move = self._MOVES.get((action, vm.state))
        if move is None:
            return [False, f"Wrong state to perform action {action}"]
        vm.state, vm.lcm_state = move
        return [True]

    def deploy(self, vid: int) -> None:
        self.vms[vid].state, self.vms[vid].lcm_state = 3, 3

    def _xml(self, vm: FakeVm, with_template: bool) -> str:
        name = escape(vm.template.get("NAME"))
        body = (
            f"<ID>{vm.id}</ID><UID>0</UID><NAME>{name}</NAME><STATE>{vm.state}</STATE>"
            f"<LCM_STATE>{vm.lcm_state}</LCM_STATE><MEMORY>0</MEMORY><CPU>0</CPU>"
        )
        if with_template:
            body += vm.template.to_xml()
        return f"<VM>{body}</VM>"

    def info(self, session: str, vid: int) -> list[Any]:
        try:
            self._auth(session)
        except PermissionError:
            return [False, "User couldn't be authenticated, aborting call."]
        vm = self.vms.get(vid)
        if vm is None:
            return [False, f"Error getting vm with VID = {vid}"]
        return [True, self._xml(vm, True)]

    def pool(self, session: str, flag: int) -> list[Any]:
        try:
            self._auth(session)
        except PermissionError:
            return [False, "User couldn't be authenticated, aborting call."]
        items = "".join(self._xml(vm, False) for vm in self.vms.values() if vm.state != 6)
        return [True, f"<VM_POOL>{items}</VM_POOL>"]

    def hostpool(self, session: str) -> list[Any]:
        host = (
            "<HOST><ID>0</ID><NAME>h</NAME><STATE>2</STATE><HOST_SHARE>"
            "<MAX_MEM>1048576</MAX_MEM><MAX_CPU>400</MAX_CPU></HOST_SHARE></HOST>"
        )
        return [True, f"<HOST_POOL>{host}</HOST_POOL>"]


class _Quiet(SimpleXMLRPCRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


class _ThreadedXMLRPCServer(socketserver.ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True


@pytest.fixture
def fake_oned() -> Iterator[tuple[FakeOned, str]]:
    fake = FakeOned()
    server = _ThreadedXMLRPCServer(("127.0.0.1", 0), requestHandler=_Quiet, allow_none=True)
    server.register_function(fake.allocate, "one.vm.allocate")
    server.register_function(fake.action, "one.vm.action")
    server.register_function(fake.info, "one.vm.info")
    server.register_function(fake.pool, "one.vmpool.info")
    server.register_function(fake.hostpool, "one.hostpool.info")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}/RPC2"
    server.shutdown()
    server.server_close()


@dataclass
class Daemon:
    port: int
    unix: Path
    fake: FakeOned

    @property
    def uri(self) -> str:
        return f"one+tcp://127.0.0.1:{self.port}/"


def _serve(url: str, tmp_path: Path, fake: FakeOned, sasl: bool) -> tuple[Servers, Daemon]:
    def make_domains() -> Domains:
        return Domains(ClientOned(Client(session=SESSION, endpoint=url)))

    def login(user: str, password: str) -> Domains:
        return Domains(ClientOned(Client(f"{user}:{password}", endpoint=url)))

    factory = session_factory_for(make_domains, login=login if sasl else None)
    servers = Servers()
    tcp = servers.add(TCPServer(("127.0.0.1", 0), factory))
    unix = tmp_path / "one-libvirt.sock"
    servers.add(UnixServer(str(unix), factory))
    return servers, Daemon(tcp.server_address[1], unix, fake)


@pytest.fixture
def libvirtd(fake_oned: tuple[FakeOned, str], tmp_path: Path) -> Iterator[Daemon]:
    """one-libvirtd in this process (TCP + UNIX) in front of the fake oned, as oneadmin."""
    servers, daemon = _serve(fake_oned[1], tmp_path, fake_oned[0], sasl=False)
    yield daemon
    servers.shutdown()


@pytest.fixture
def libvirtd_sasl(fake_oned: tuple[FakeOned, str], tmp_path: Path) -> Iterator[Daemon]:
    """The same with ``--sasl``: UNIX-socket clients log in with SASL PLAIN."""
    servers, daemon = _serve(fake_oned[1], tmp_path, fake_oned[0], sasl=True)
    yield daemon
    servers.shutdown()


# -- a real stack: oned (dummy drivers) + mm_sched + one-libvirtd subprocess ---------


def _onedprocess_class() -> type | None:
    path = REPO / "tests" / "conftest.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("_one_repo_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, "OnedProcess", None)


@dataclass
class Stack:
    oned: Any
    client: Client
    port: int
    unix: Path
    host_id: int

    @property
    def uri(self) -> str:
        return f"one+tcp://127.0.0.1:{self.port}/"

    def vm(self, vid: int) -> tuple[int, int]:
        el = self.client.vm_info(vid)
        return int(el.findtext("STATE")), int(el.findtext("LCM_STATE"))

    def wait_vm(self, vid: int, state: int, lcm: int | None = None) -> None:
        def reached() -> bool:
            s, lc = self.vm(vid)
            return s == state and (lcm is None or lc == lcm)

        wait_until(reached, what=f"VM {vid} in state {state}/{lcm} (now {self.vm(vid)})")


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    def up() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    wait_until(up, timeout=30, what=f"port {port}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A real oned with the dummy drivers and one host, the mm_sched scheduler
    (1 s cycle) and ``one-libvirtd --sasl`` as its own process (TCP as oneadmin, UNIX
    socket with SASL PLAIN logins)."""
    onedprocess = _onedprocess_class()
    if onedprocess is None:
        pytest.skip("tests/conftest.py (OnedProcess) is not available")
    base = tmp_path_factory.mktemp("libvirt-stack")
    oned = onedprocess(base / "one", {"HOST_MONITORING_INTERVAL": 1})
    oned.start()
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []
    try:
        client = oned.client()
        hid = client.host_allocate("host01", "im_dummy", "vmm_dummy", "tm_dummy")
        bindir = Path(sys.executable).parent
        mm_sched = shutil.which("mm_sched", path=str(bindir))
        if mm_sched is None:
            pytest.skip("mm_sched (one-sched-rank) is not installed")
        env = dict(oned.env)
        sched_log = open(base / "mm_sched.out", "wb")  # noqa: SIM115
        logs.append(sched_log)
        procs.append(
            subprocess.Popen(
                [mm_sched, "-p", str(oned.port), "-t", "1"],
                env=env,
                cwd=str(base),
                stdout=sched_log,
                stderr=sched_log,
            )
        )
        port = free_port()
        unix = base / "one-libvirtd.sock"
        lv_log_path = base / "one-libvirtd.out"
        lv_log = open(lv_log_path, "wb")  # noqa: SIM115
        logs.append(lv_log)
        lv = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "one_libvirt",
                "--port",
                str(port),
                "--unix",
                str(unix),
                "--endpoint",
                oned.url,
                "--auth",
                str(oned.auth_file),
                "--sasl",
                "--debug",
            ],
            env=env,
            stdout=lv_log,
            stderr=lv_log,
        )
        procs.append(lv)
        _wait_port(port, lv, lv_log_path)
        yield Stack(oned, client, port, unix, hid)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for f in logs:
            f.close()
        oned.stop()


def virsh_path() -> str | None:
    return shutil.which("virsh")


def run_virsh(
    uri: str, *args: str, cwd: Path | None = None, auth_file: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LC_ALL="C")
    if auth_file is not None:
        env["LIBVIRT_AUTH_FILE"] = str(auth_file)
    return subprocess.run(
        ["virsh", "-c", uri, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
    )
