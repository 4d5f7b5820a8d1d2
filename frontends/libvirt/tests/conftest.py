"""Fixtures: one-libvirtd (in this process, or as a subprocess with mm_sched) in front of a
real oned with the dummy drivers (the ``oned_factory`` / ``oned_process_cls`` fixtures of the
``one_core.testing`` pytest plugin).

* ``libvirtd`` — one-libvirtd serving TCP + a UNIX socket as oneadmin, on a fresh oned that
  has the host ``host01`` (monitored every second; the dummy IM reports it with 1 GiB and
  400 % CPU, see :data:`HOST_FIGURES`) and the ranged network ``Private LAN``. There is no
  scheduler: VMs stay PENDING until a test calls :meth:`Daemon.deploy`.
* ``libvirtd_sasl`` — the same with ``--sasl`` (UNIX-socket clients log in with SASL PLAIN).
* ``stack`` — module-scoped: oned, mm_sched and ``one-libvirtd --sasl`` as processes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from one_libvirt.domains import Domains
from one_libvirt.oned import ClientOned
from one_libvirt.server import Servers, TCPServer, UnixServer, session_factory_for

from one_core.client import Client
from one_core.testing.cloud import free_port, wait_until
from one_core.testing.oned import ONEADMIN_PASSWORD
from one_core.testing.process import stop_process

PASSWORD = ONEADMIN_PASSWORD
"""oneadmin's password on the test oned."""

HOST_FIGURES = "TOTALMEMORY = 1048576\nFREEMEMORY = 1048576\nTOTALCPU = 400\nFREECPU = 400\n"
"""What the dummy IM reports for ``host01`` (``$VAR/dummy_hosts/host01``)."""

PRIVATE_LAN = 'NAME = "Private LAN"\nTYPE = RANGED\nBRIDGE = br0\nNETWORK_ADDRESS = 10.0.0.0\n'
"""The network the test domains' ``<interface>`` names."""

PENDING, HOLD, ACTIVE, STOPPED, SUSPENDED, DONE = 1, 2, 3, 4, 5, 6
RUNNING = 3
"""VM STATE values (and LCM_STATE RUNNING)."""

DATA = Path(__file__).parent / "data"
"""The domain XML samples (see ``data/README.md``)."""


def seed_domain_xml(name: str = "vm01", extra_devices: str = "") -> str:
    """The seed example ``data/seed-domain.xml``, named ``name``, ``extra_devices`` added."""
    text = (DATA / "seed-domain.xml").read_text()
    text = text.replace("<name>vm01</name>", f"<name>{name}</name>", 1)
    return text.replace("\n  </devices>", f"{extra_devices}\n  </devices>", 1)


class OnedView:
    """What the tests read from (and do on) the real oned behind one-libvirtd."""

    client: Client
    host_id: int

    def vm(self, vid: int) -> tuple[int, int]:
        """``(STATE, LCM_STATE)`` of VM ``vid``."""
        el = self.client.vm_info(vid)
        return int(el.findtext("STATE")), int(el.findtext("LCM_STATE"))

    def template(self, vid: int) -> Any:
        """The VM's ``TEMPLATE`` element as oned holds it."""
        return self.client.vm_info(vid).find("TEMPLATE")

    def vm_ids(self) -> list[int]:
        """Every VM oned has (DONE ones included: the pool lists them as well)."""
        return [int(vm.findtext("ID")) for vm in self.client.vmpool_info(-2).findall("VM")]

    def wait_vm(self, vid: int, state: int, lcm: int | None = None) -> None:
        def reached() -> bool:
            s, lc = self.vm(vid)
            return s == state and (lcm is None or lc == lcm)

        wait_until(reached, what=f"VM {vid} in state {state}/{lcm} (now {self.vm(vid)})")

    def deploy(self, vid: int) -> None:
        """Place a PENDING VM on ``host01`` (as the scheduler would) and wait until RUNNING."""
        self.client.vm_deploy(vid, self.host_id)
        self.wait_vm(vid, ACTIVE, RUNNING)


@dataclass
class Daemon(OnedView):
    """one-libvirtd in this process in front of ``oned``."""

    port: int
    unix: Path
    oned: Any
    client: Client
    host_id: int

    @property
    def uri(self) -> str:
        return f"one+tcp://127.0.0.1:{self.port}/"

    def wait_host_monitored(self) -> None:
        wait_until(
            lambda: self.client.host_info(self.host_id).findtext("STATE") == "2",
            what="host01 MONITORED",
        )


def _serve(oned: Any, tmp_path: Path, sasl: bool) -> Iterator[Daemon]:
    """Serve one-libvirtd in front of ``oned`` until the fixture ends."""
    client = oned.client()
    (oned.var / "dummy_hosts").mkdir(exist_ok=True)
    (oned.var / "dummy_hosts" / "host01").write_text(HOST_FIGURES)
    hid = client.host_allocate("host01", "im_dummy", "vmm_dummy", "tm_dummy")
    client.vn_allocate(PRIVATE_LAN)

    def make_domains() -> Domains:
        return Domains(ClientOned(Client(session=oned.session, endpoint=oned.url)))

    def login(user: str, password: str) -> Domains:
        return Domains(ClientOned(Client(f"{user}:{password}", endpoint=oned.url)))

    factory = session_factory_for(make_domains, login=login if sasl else None)
    servers = Servers()
    tcp = servers.add(TCPServer(("127.0.0.1", 0), factory))
    unix = tmp_path / "one-libvirt.sock"
    servers.add(UnixServer(str(unix), factory))
    yield Daemon(tcp.server_address[1], unix, oned, client, hid)
    servers.shutdown()
    client.close()


@pytest.fixture
def real_oned(oned_factory: Callable[..., Any]) -> Any:
    """oned with the dummy drivers, monitoring hosts every second."""
    return oned_factory(HOST_MONITORING_INTERVAL=1)


@pytest.fixture
def libvirtd(real_oned: Any, tmp_path: Path) -> Iterator[Daemon]:
    """one-libvirtd in this process (TCP + UNIX) in front of a real oned, as oneadmin."""
    yield from _serve(real_oned, tmp_path, sasl=False)


@pytest.fixture
def libvirtd_sasl(real_oned: Any, tmp_path: Path) -> Iterator[Daemon]:
    """The same with ``--sasl``: UNIX-socket clients log in with SASL PLAIN."""
    yield from _serve(real_oned, tmp_path, sasl=True)


# -- a real stack: oned (dummy drivers) + mm_sched + one-libvirtd subprocess ---------


@dataclass
class Stack(OnedView):
    oned: Any
    client: Client
    port: int
    unix: Path
    host_id: int
    log: Path
    """one-libvirtd's output (``--debug``: one line per procedure called)."""

    @property
    def uri(self) -> str:
        return f"one+tcp://127.0.0.1:{self.port}/"

    def one_cli(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        """An OpenNebula CLI command (``onevm``, ...) as a process against this oned."""
        exe = shutil.which(command, path=str(Path(sys.executable).parent))
        assert exe, f"{command} is not installed"
        return subprocess.run(
            [exe, *args],
            env=dict(self.oned.env),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )


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
def stack(tmp_path_factory: pytest.TempPathFactory, oned_process_cls: type) -> Iterator[Stack]:
    """A real oned with the dummy drivers and one host, the mm_sched scheduler
    (1 s cycle) and ``one-libvirtd --sasl`` as its own process (TCP as oneadmin, UNIX
    socket with SASL PLAIN logins)."""
    base = tmp_path_factory.mktemp("libvirt-stack")
    oned = oned_process_cls(base / "one", {"HOST_MONITORING_INTERVAL": 1})
    oned.start()
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []
    try:
        client = oned.client()
        hid = client.host_allocate("host01", "im_dummy", "vmm_dummy", "tm_dummy")
        bindir = Path(sys.executable).parent
        mm_sched = shutil.which("mm_sched", path=str(bindir))
        assert mm_sched, "mm_sched (the one-sched-rank workspace member) is not installed"
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
                "--event-interval",
                "0.3",
                "--debug",
            ],
            env=env,
            stdout=lv_log,
            stderr=lv_log,
        )
        procs.append(lv)
        _wait_port(port, lv, lv_log_path)
        yield Stack(oned, client, port, unix, hid, lv_log_path)
    finally:
        for proc in procs:
            stop_process(proc)
        for f in logs:
            f.close()
        oned.stop()


def virsh_path() -> str | None:
    return shutil.which("virsh")


def run_virsh(
    uri: str,
    *args: str,
    cwd: Path | None = None,
    auth_file: Path | None = None,
    editor: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, LC_ALL="C")
    if auth_file is not None:
        env["LIBVIRT_AUTH_FILE"] = str(auth_file)
    if editor is not None:
        env["EDITOR"] = env["VISUAL"] = editor
    return subprocess.run(
        ["virsh", "-c", uri, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
    )
