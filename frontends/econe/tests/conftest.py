"""Fixtures: one real oned (dummy drivers) and two econe-servers for the whole session.

* ``stack`` — oned with a host ``host01`` and the network ``Public EC2``, plus
  econe-server ``main`` (``MAX_SKEW = 900``, ``SSL_SERVER = myhost.example.com``)
  and ``legacy`` (``MAX_SKEW = 0``: 1.4's no clock check, for the spec's 2010
  test vector). Both serve the same image repository.
  Both oneds have the networks ``Tiny`` and ``Tiny2`` (two fixed leases each) of the
  instance types ``tiny`` and ``tiny2``.
* ``sched_stack`` — a second oned with the in-daemon scheduler (instances reach
  running by themselves), the networks ``Public EC2`` and ``Tiny`` (two fixed
  leases, for the instance type ``tiny``), and one econe-server (``main`` = ``legacy``).
* ``new_user()`` — a fresh OpenNebula user per call: ``(name, password)``.
* ``boto3_client(user, password)`` — boto3 EC2 (SigV4) with the secret
  ``sha1hex(password)``.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from one_core.testing import cloud
from one_core.testing.cloud import sha1_hex, wait_until

REPO = Path(__file__).resolve().parents[3]
PACKAGE_ETC = REPO / "frontends" / "econe" / "one_econe" / "etc"
SSL_HOST = "myhost.example.com"


@dataclass
class EconeServer(cloud.ServerProcess):
    """An econe-server subprocess (``python -m one_econe.server --config X run``)."""

    MODULE = "one_econe.server"
    LABEL = "econe-server"


TINY_NETWORK = (
    'NAME = "Tiny"\nTYPE = FIXED\nBRIDGE = br0\n'
    "LEASES = [ IP = 192.168.5.1 ]\nLEASES = [ IP = 192.168.5.2 ]\n"
)
TINY2_NETWORK = TINY_NETWORK.replace("Tiny", "Tiny2").replace("192.168.5.", "192.168.6.")
TINY = (
    "NAME = eco-tiny\nCPU = 0.1\nMEMORY = 64\n"
    "DISK = [ source = <%= erb_vm_info[:img_path] %>, target = sda1 ]\n"
    'NIC = [ NETWORK = "Tiny" ]\n'
    "IMAGE_ID = <%= erb_vm_info[:img_id] %>\n"
    "INSTANCE_TYPE = <%= erb_vm_info[:instance_type] %>\n"
)


def write_config(
    path: Path,
    *,
    port: int,
    database: Path,
    image_dir: Path,
    extra: str = "",
) -> Path:
    small = (
        "NAME = eco-small\nCPU = 0.1\nMEMORY = 64\n"
        "DISK = [ source = <%= erb_vm_info[:img_path] %>, target = sda1 ]\n"
        "IMAGE_ID = <%= erb_vm_info[:img_id] %>\n"
        "INSTANCE_TYPE = <%= erb_vm_info[:instance_type] %>\n"
    )
    return cloud.write_server_config(
        path,
        {
            "m1.small.erb": (PACKAGE_ETC / "ec2query_templates" / "m1.small.erb").read_text(),
            "small.erb": small,
            "tiny.erb": TINY,
            "tiny2.erb": TINY.replace("Tiny", "Tiny2"),
        },
        templates_dir="ec2query_templates",
        port=port,
        database=database,
        image_dir=image_dir,
        extra="VM_TYPE=[NAME=m1.small, TEMPLATE=m1.small.erb]\n"
        "VM_TYPE=[\n  NAME=small,\n  TEMPLATE=small.erb\n]\n"
        "VM_TYPE=[NAME=tiny, TEMPLATE=tiny.erb]\n"
        "VM_TYPE=[NAME=tiny2, TEMPLATE=tiny2.erb]\n"
        "USER_CACHE=0\n" + extra,
    )


@dataclass
class Stack:
    oned: Any
    main: EconeServer
    legacy: EconeServer
    image_dir: Path
    database: Path
    admin: Any
    _users: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_user(self, password: str | None = None, name: str | None = None) -> tuple[str, str]:
        n = next(self._users)
        name, password = name or f"user{n}", password or f"pass{n}"
        self.admin.user_allocate(name, password)
        return name, password

    def user_id(self, name: str) -> int:
        pool = self.admin.userpool_info()
        for node in pool.findall("USER"):
            if node.findtext("NAME") == name:
                return int(node.findtext("ID"))
        raise KeyError(name)

    wait_until = staticmethod(wait_until)

    def vm(self, vid: int) -> Any:
        return self.admin.vm_info(vid)

    def deploy(self, vid: int) -> None:
        """Act as the scheduler: deploy on host 0."""
        self.admin.vm_deploy(vid, 0)

    def tool_env(self, user: str | None = None, password: str | None = None) -> dict[str, str]:
        env = dict(self.main.env)
        env["EC2_URL"] = self.main.url
        for key in ("EC2_ACCESS_KEY", "EC2_SECRET_KEY", "ONE_AUTH"):
            env.pop(key, None)
        if user is not None:
            env["EC2_ACCESS_KEY"] = user
            env["EC2_SECRET_KEY"] = password or ""
        env["HOME"] = str(self.image_dir.parent / "home")
        return env


PUBLIC_NETWORK = (
    'NAME = "Public EC2"\nTYPE = RANGED\nBRIDGE = br0\n'
    "NETWORK_SIZE = C\nNETWORK_ADDRESS = 192.168.0.0\n"
)


def _stack(site: cloud.CloudSite, main: cloud.ServerProcess, legacy: cloud.ServerProcess) -> Stack:
    (site.image_dir.parent / "home").mkdir(exist_ok=True)
    return Stack(site.oned, main, legacy, site.image_dir, site.database, site.admin)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("econe")
    with cloud.cloud_site(base, "econe", [PUBLIC_NETWORK, TINY_NETWORK, TINY2_NETWORK]) as site:
        main, legacy = (
            site.start_server(
                EconeServer, write_config, base / name, "econe.conf", "econe.log", extra=extra
            )
            for name, extra in (
                ("main", f"MAX_SKEW=900\nSSL_SERVER={SSL_HOST}\nMAX_UPLOAD=1048576\n"),
                ("legacy", f"MAX_SKEW=0\nSSL_SERVER={SSL_HOST}\n"),
            )
        )
        yield _stack(site, main, legacy)


@pytest.fixture(scope="session")
def sched_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """oned with the in-daemon scheduler + one econe-server (see the module docstring)."""
    base = tmp_path_factory.mktemp("econe-sched")
    networks = [PUBLIC_NETWORK, TINY_NETWORK, TINY2_NETWORK]
    with cloud.cloud_site(base, "econe", networks, scheduler=True) as site:
        main = site.start_server(
            EconeServer, write_config, base / "main", "econe.conf", "econe.log"
        )
        yield _stack(site, main, main)


@pytest.fixture
def boto3_client(stack: Stack) -> Callable[..., Any]:
    import boto3
    from botocore.config import Config

    def make(
        user: str,
        password: str,
        *,
        secret: str | None = None,
        url: str | None = None,
        on: Stack | None = None,
    ):
        return boto3.client(
            "ec2",
            endpoint_url=url or (on or stack).main.url,
            region_name="us-east-1",
            aws_access_key_id=user,
            aws_secret_access_key=secret if secret is not None else sha1_hex(password),
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )

    return make


@pytest.fixture
def econe_tool(stack: Stack) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run an econe-* tool as a subprocess: ``econe_tool("econe-upload", path, env=...)``."""
    bindir = Path(sys.executable).parent

    def run(
        tool: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bindir / tool), *args],
            env=env if env is not None else stack.tool_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.fixture
def image_file(tmp_path: Path) -> Path:
    path = tmp_path / "gentoo.img"
    path.write_bytes(os.urandom(64 * 1024))
    return path
