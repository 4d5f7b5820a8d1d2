"""Fixtures: one real oned (dummy drivers, in-daemon scheduler) and one occi-server per session.

* ``stack`` — oned with host ``host01`` and oneadmin's network ``Public``
  (id 0), and an occi-server subprocess (``python -m one_occi.server --config X run``).
* ``stack.new_user()`` — a fresh OpenNebula user: ``(name, password)``.
* ``stack.api(user, password)`` — a :class:`requests.Session` with the server's
  Basic auth (``user:sha1hex(password)``) and its base URL.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DET
import pytest
import requests

REPO = Path(__file__).resolve().parents[3]
PACKAGE_ETC = REPO / "frontends" / "occi" / "one_occi" / "etc"
ADMIN_PASSWORD = "onepass"
BASE = "https://cloud.example.com:8443"
"""The SSL_SERVER of the test server: every href starts with it."""


def _repo_conftest() -> Any:
    path = REPO / "tests" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_one_repo_conftest_occi", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Poll ``predicate`` until truthy (a wait, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.2)


def sha1_hex(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


class Api(requests.Session):
    """A session bound to the server URL: ``api.get("/compute")``."""

    def __init__(self, url: str, user: str | None, password: str | None):
        super().__init__()
        self.url = url
        if user is not None:
            self.auth = (user, sha1_hex(password or ""))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", 60)
        return super().request(method, self.url + url, *args, **kwargs)


@dataclass
class OcciServer:
    config_path: Path
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> OcciServer:
        self._log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "one_occi.server", "--config", str(self.config_path), "run"],
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

        def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"occi-server exited: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_until(ready, 30, "occi-server port")
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


def write_config(path: Path, *, port: int, database: Path, image_dir: Path) -> Path:
    templates = path.parent / "occi_templates"
    templates.mkdir(parents=True, exist_ok=True)
    for name in ("small", "medium", "large"):
        src = PACKAGE_ETC / "occi_templates" / f"{name}.erb"
        (templates / f"{name}.erb").write_text(src.read_text())
    path.write_text(
        f"USER=oneadmin\nPASSWORD={ADMIN_PASSWORD}\n"
        f"SERVER=127.0.0.1\nPORT={port}\nSSL_SERVER={BASE}\n"
        f"DATABASE={database}\nIMAGE_DIR={image_dir}\n"
        "BRIDGE=br0\nFS_FORMAT=ext2\nUSER_CACHE=0\nMAX_UPLOAD=4194304\n"
        "VM_TYPE=[NAME=small, TEMPLATE=small.erb]\n"
        "VM_TYPE=[\n  NAME=medium,\n  TEMPLATE=medium.erb\n]\n"
        "VM_TYPE=[NAME=large, TEMPLATE=large.erb]\n"
    )
    return path


DISK_XML = "<DISK><NAME>Ubuntu 9.04 LAMP</NAME><URL>file:///images/ubuntu/jaunty.img</URL></DISK>"


def upload(api, image: Path, xml: str = DISK_XML):
    with open(image, "rb") as f:
        return api.post("/storage", files={"occixml": (None, xml), "file": ("img", f)})


def xml(resp):
    assert resp.headers["Content-Type"].startswith("application/xml"), resp.headers
    return DET.fromstring(resp.content)


def compute_body(image_id: int, net_ids: list[int], name: str = "Web Server") -> str:
    nics = "".join(f'<NIC network="{n}"/>' for n in net_ids)
    return (
        f"<COMPUTE><NAME>{name}</NAME><INSTANCE_TYPE>small</INSTANCE_TYPE>"
        f'<STORAGE><DISK image="{image_id}" dev="sda1"/>'
        '<SWAP size="1024" dev="sda2"/><FS size="512" format="ext3" dev="sda3"/>'
        f'<FS size="256" dev="sdb"/></STORAGE><NETWORK>{nics}</NETWORK></COMPUTE>'
    )


def put_state(api, vid: int, state: str):
    return api.put(
        f"/compute/{vid}",
        data=f"<COMPUTE><STATE>{state}</STATE></COMPUTE>",
        headers={"Content-Type": "application/xml"},
    )


@dataclass
class Stack:
    oned: Any
    server: OcciServer
    image_dir: Path
    admin: Any
    home: Path
    database: Path
    _users: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_user(self) -> tuple[str, str]:
        n = next(self._users)
        name, password = f"occiuser{n}", f"secret{n}"
        self.admin.user_allocate(name, password)
        return name, password

    def api(self, user: str | None = None, password: str | None = None) -> Api:
        return Api(self.server.url, user, password)

    def admin_api(self) -> Api:
        return Api(self.server.url, "oneadmin", ADMIN_PASSWORD)

    def vm_state(self, vid: int) -> tuple[int, int]:
        vm = self.admin.vm_info(vid)
        return int(vm.findtext("STATE")), int(vm.findtext("LCM_STATE"))

    def wait_running(self, vid: int) -> None:
        wait_until(lambda: self.vm_state(vid) == (3, 3), 60, f"VM {vid} RUNNING")

    def tool_env(self, user: str, password: str) -> dict[str, str]:
        env = dict(self.server.env)
        env.pop("ONE_AUTH", None)
        env.pop("OCCI_EXIT_ZERO", None)
        auth = self.home / f"{user}_auth"
        auth.write_text(f"{user}:{password}\n")
        env.update(ONE_AUTH=str(auth), OCCI_URL=self.server.url, HOME=str(self.home))
        return env

    wait_until = staticmethod(wait_until)
    base = BASE
    upload = staticmethod(upload)
    xml = staticmethod(xml)
    compute_body = staticmethod(compute_body)
    put_state = staticmethod(put_state)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("occi")
    repo_conftest = _repo_conftest()
    oned = repo_conftest.OnedProcess(
        base / "one",
        {"HOST_MONITORING_INTERVAL": 1, "MANAGER_TIMER": 1},
        repo_conftest.DRIVER_SECTIONS_SCHED,
    ).start()
    admin = oned.client()
    admin.host_allocate("host01", "im_dummy", "vmm_dummy", "tm_dummy")
    admin.vn_allocate(
        'NAME = "Public"\nTYPE = RANGED\nBRIDGE = br0\n'
        "NETWORK_SIZE = C\nNETWORK_ADDRESS = 10.0.0.0\n"
    )
    image_dir = base / "images"
    env = dict(oned.env)
    env["ONE_LOCATION"] = str(base / "occi-location")
    port = free_port()
    database = base / "var" / "occi.db"
    cfg = write_config(
        base / "server" / "occi-server.conf",
        port=port,
        database=database,
        image_dir=image_dir,
    )
    server = OcciServer(cfg, port, env, base / "server" / "occi.log").start()
    home = base / "home"
    home.mkdir()
    st = Stack(oned, server, image_dir, admin, home, database)
    try:
        yield st
    finally:
        server.stop()
        admin.close()
        oned.stop()


@pytest.fixture
def image_file(tmp_path: Path) -> Path:
    path = tmp_path / "ubuntu.img"
    path.write_bytes(bytes(range(256)) * 8192 + b"tail")  # 2 MiB + 4 bytes: SIZE 2
    return path
