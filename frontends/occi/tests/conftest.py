"""Fixtures: one real oned (dummy drivers, in-daemon scheduler) and one occi-server per session.

* ``stack`` — oned with host ``host01`` and oneadmin's network ``Public``
  (id 0), and an occi-server subprocess (``python -m one_occi.server --config X run``).
* ``stack.new_user()`` — a fresh OpenNebula user: ``(name, password)``.
* ``stack.api(user, password)`` — a :class:`requests.Session` with the server's
  Basic auth (``user:sha1hex(password)``) and its base URL.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as DET
import pytest
import requests

from one_core.testing import cloud
from one_core.testing.cloud import ADMIN_PASSWORD, sha1_hex

REPO = Path(__file__).resolve().parents[3]
PACKAGE_ETC = REPO / "frontends" / "occi" / "one_occi" / "etc"
BASE = "https://cloud.example.com:8443"
"""The SSL_SERVER of the test server: every href starts with it."""


def wait_until(predicate: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    """Poll ``predicate`` until truthy (a wait, not a timing assertion)."""
    return cloud.wait_until(predicate, timeout, what, interval=0.2)


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
class OcciServer(cloud.ServerProcess):
    MODULE = "one_occi.server"
    LABEL = "occi-server"


def write_config(path: Path, *, port: int, database: Path, image_dir: Path) -> Path:
    return cloud.write_server_config(
        path,
        {
            f"{name}.erb": (PACKAGE_ETC / "occi_templates" / f"{name}.erb").read_text()
            for name in ("small", "medium", "large")
        },
        templates_dir="occi_templates",
        port=port,
        database=database,
        image_dir=image_dir,
        after_port=f"SSL_SERVER={BASE}\n",
        extra="BRIDGE=br0\nFS_FORMAT=ext2\nUSER_CACHE=0\nMAX_UPLOAD=4194304\n"
        "VM_TYPE=[NAME=small, TEMPLATE=small.erb]\n"
        "VM_TYPE=[\n  NAME=medium,\n  TEMPLATE=medium.erb\n]\n"
        "VM_TYPE=[NAME=large, TEMPLATE=large.erb]\n",
    )


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
    public = (
        'NAME = "Public"\nTYPE = RANGED\nBRIDGE = br0\n'
        "NETWORK_SIZE = C\nNETWORK_ADDRESS = 10.0.0.0\n"
    )
    with cloud.cloud_site(base, "occi", [public], scheduler=True) as site:
        server = site.start_server(
            OcciServer, write_config, base / "server", "occi-server.conf", "occi.log"
        )
        home = base / "home"
        home.mkdir()
        yield Stack(site.oned, server, site.image_dir, site.admin, home, site.database)


@pytest.fixture
def image_file(tmp_path: Path) -> Path:
    path = tmp_path / "ubuntu.img"
    path.write_bytes(bytes(range(256)) * 8192 + b"tail")  # 2 MiB + 4 bytes: SIZE 2
    return path
