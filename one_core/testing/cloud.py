"""Test helpers of cloud front-ends (frontends/econe, frontends/occi) and their tests.

* :func:`start_oned` — oned with the host ``host01`` and one ranged network.
* :func:`cloud_site` — that oned as a context, plus what its cloud servers share (:class:`CloudSite`).
* :class:`ServerProcess` — a cloud server subprocess (``python -m <module> --config X run``).
* :func:`write_server_config` — a server configuration and its VM type templates.
* :func:`check_server_script` — the ``<name>-server {start|stop}`` script's whole life cycle.
* :func:`free_port`, :func:`wait_until`, :func:`sha1_hex`, :func:`port_open`, :func:`pid_alive`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from one_core.testing.oned import DRIVER_SECTIONS_SCHED, OnedProcess, free_port
from one_core.testing.oned import ONEADMIN_PASSWORD as ADMIN_PASSWORD
from one_core.testing.process import stop_process

__all__ = [
    "ADMIN_PASSWORD",
    "CloudSite",
    "ServerProcess",
    "check_server_script",
    "cloud_site",
    "free_port",
    "pid_alive",
    "port_open",
    "sha1_hex",
    "start_oned",
    "wait_until",
    "write_server_config",
]


def wait_until(
    predicate: Callable[[], Any], timeout: float = 30.0, what: str = "", interval: float = 0.1
) -> Any:
    """Poll ``predicate`` every ``interval`` s until truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(interval)


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on ``127.0.0.1:port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie child of ours is reaped and counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True


def sha1_hex(text: str) -> str:
    """The SHA-1 hex digest of ``text`` (OpenNebula's password hash)."""
    return hashlib.sha1(text.encode()).hexdigest()


def start_oned(path: Path, network: str, *oned_args: Any) -> tuple[OnedProcess, Any]:
    """``(oned, admin client)``: ``OnedProcess(path, *oned_args)`` started, with
    the host ``host01`` and the network template ``network``.
    """
    oned = OnedProcess(path, *oned_args).start()
    admin = oned.client()
    admin.host_allocate("host01", "im_dummy", "vmm_dummy", "tm_dummy")
    admin.vn_allocate(network)
    return oned, admin


@dataclass
class CloudSite:
    """A running oned and what the cloud servers in front of it share."""

    oned: OnedProcess
    admin: Any
    env: dict[str, str]
    """oned's environment plus ``ONE_LOCATION`` (the servers' environment)."""
    image_dir: Path
    database: Path
    servers: list[ServerProcess] = field(default_factory=list)

    def start_server(
        self,
        server_class: type[ServerProcess],
        write_config: Callable[..., Path],
        folder: Path,
        config_name: str,
        log_name: str,
        **config: Any,
    ) -> ServerProcess:
        """Start ``server_class`` on a free port with ``write_config(folder / config_name, port=,
        database=, image_dir=, **config)``, logging to ``folder / log_name``; it is stopped when
        the :func:`cloud_site` context ends.
        """
        port = free_port()
        path = write_config(
            folder / config_name,
            port=port,
            database=self.database,
            image_dir=self.image_dir,
            **config,
        )
        server = server_class(path, port, self.env, folder / log_name).start()
        self.servers.append(server)
        return server


@contextlib.contextmanager
def cloud_site(
    base: Path, label: str, networks: list[str], *, scheduler: bool = False
) -> Iterator[CloudSite]:
    """oned under ``base / "one"`` with the host ``host01`` and ``networks`` (the first one
    through :func:`start_oned`); with ``scheduler``, oned runs its in-daemon scheduler and
    monitors every second, so VMs reach RUNNING by themselves. The servers share
    ``ONE_LOCATION = base / "<label>-location"``, ``base / "images"`` and
    ``base / "var" / "<label>.db"``. Everything stops on exit.
    """
    oned_args = (
        ({"HOST_MONITORING_INTERVAL": 1, "MANAGER_TIMER": 1}, DRIVER_SECTIONS_SCHED)
        if scheduler
        else ()
    )
    oned, admin = start_oned(base / "one", networks[0], *oned_args)
    for network in networks[1:]:
        admin.vn_allocate(network)
    site = CloudSite(
        oned,
        admin,
        dict(oned.env, ONE_LOCATION=str(base / f"{label}-location")),
        base / "images",
        base / "var" / f"{label}.db",
    )
    try:
        yield site
    finally:
        for server in site.servers:
            server.stop()
        admin.close()
        oned.stop()


def write_server_config(
    path: Path,
    templates: dict[str, str],
    *,
    templates_dir: str,
    port: int,
    database: Path,
    image_dir: Path,
    after_port: str = "",
    extra: str = "",
) -> Path:
    """Write ``path`` (USER, PASSWORD, SERVER, PORT, DATABASE, IMAGE_DIR + ``extra``).

    ``templates`` (file name → text) go into ``<path's folder>/<templates_dir>``;
    ``after_port`` is written right after the PORT line.
    """
    folder = path.parent / templates_dir
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in templates.items():
        (folder / name).write_text(text)
    path.write_text(
        f"USER=oneadmin\nPASSWORD={ADMIN_PASSWORD}\n"
        f"SERVER=127.0.0.1\nPORT={port}\n{after_port}"
        f"DATABASE={database}\nIMAGE_DIR={image_dir}\n" + extra
    )
    return path


@dataclass
class ServerProcess:
    """A cloud server subprocess; subclasses set :attr:`MODULE` and :attr:`LABEL`."""

    MODULE: ClassVar[str] = ""
    LABEL: ClassVar[str] = ""

    config_path: Path
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Any:
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.MODULE, "--config", str(self.config_path), "run"],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.LABEL} exited: {self.log()}")
            return port_open(self.port)

        wait_until(ready, 30, f"{self.LABEL} port")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, 15)
        self.proc = None
        self._log.close()


def check_server_script(
    name: str,
    loc: Path,
    conf_file: str,
    env: dict[str, str],
    port: int,
    while_up: Callable[[], None] = lambda: None,
) -> None:
    """Drive ``<name>-server {start|stop}`` (spec cloud-apis §1.6) through its whole life cycle.

    ``loc`` is ``ONE_LOCATION`` in ``env``; ``loc/etc/<conf_file>`` must already name ``port``
    and the password ``onepass``. Checks the usage and no-pid messages, start (pid file), the
    port answering, ``while_up()``, stop (pid file gone, process gone — started with SIGINT
    ignored), the log (which must not hold the password) and that a configuration without
    DATABASE fails to start.
    """
    script = str(Path(sys.executable).parent / f"{name}-server")

    def run(arg: str) -> subprocess.CompletedProcess[str]:
        # started with SIGINT ignored, as a background job of a shell script starts it:
        # ``stop`` (kill -INT) must stop it all the same
        command = ["sh", "-c", 'trap "" INT; exec "$0" "$@"', script, arg]
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=60, check=False
        )

    out = run("bogus")
    assert (out.returncode, out.stderr) == (3, f"Usage: {name}-server {{start|stop}}\n")
    out = run("stop")
    assert (out.returncode, out.stdout) == (1, f"Couldn't find {name}-server process pid.\n")

    out = run("start")
    assert (out.returncode, out.stdout) == (0, f"{name}-server started\n"), out.stderr
    pid_file = loc / "var" / f"{name}-server.pid"
    pid = int(pid_file.read_text())
    try:
        wait_until(lambda: port_open(port), 30, f"{name}-server port")
        while_up()
        out = run("stop")
        assert (out.returncode, out.stdout) == (0, f"{name}-server stopped\n")
        assert not pid_file.exists()
        wait_until(lambda: not pid_alive(pid), 30, f"{name}-server exit")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    log = (loc / "var" / f"{name}-server.log").read_text()
    assert f"{name}-server configuration" in log
    assert "onepass" not in log

    (loc / "etc" / conf_file).write_text("PORT=1\n")
    out = run("start")
    assert out.returncode == 1
    assert "DB not defined" in out.stderr
