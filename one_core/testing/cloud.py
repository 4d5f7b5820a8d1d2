"""Test helpers of cloud front-ends (frontends/econe, frontends/occi) and their tests.

* :func:`start_oned` — oned with the host ``host01`` and one ranged network.
* :class:`ServerProcess` — a cloud server subprocess (``python -m <module> --config X run``).
* :func:`write_server_config` — a server configuration and its VM type templates.
* :func:`free_port`, :func:`wait_until`, :func:`sha1_hex`.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from one_core.testing.oned import ONEADMIN_PASSWORD as ADMIN_PASSWORD
from one_core.testing.oned import OnedProcess, free_port

__all__ = [
    "ADMIN_PASSWORD",
    "ServerProcess",
    "free_port",
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
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_until(ready, 30, f"{self.LABEL} port")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._log.close()
