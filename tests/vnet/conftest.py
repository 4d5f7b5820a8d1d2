"""Fixtures for the virtual network tests: a real SQLite file and pools on it."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from one_core import db
from one_core.pools.vnet import VNetPool

WIRE = Path("/work/shared/one14/wire")

USERS = {0: "oneadmin", 1: "user1", 2: "user2"}


def wire_response(stem: str) -> list:
    """The decoded response array of a 1.4 wire capture."""
    params, _ = xmlrpc.client.loads((WIRE / f"{stem}.response.xml").read_text())
    return list(params[0])


def wire_request(stem: str) -> tuple[str, tuple]:
    """(method, params) of a 1.4 wire capture."""
    params, name = xmlrpc.client.loads((WIRE / f"{stem}.request.xml").read_text())
    return name, params


@pytest.fixture
def db_path(tmp_path: Path) -> Iterator[Path]:
    """A fresh SQLite database file, connected as :data:`one_core.db.database`."""
    path = tmp_path / "one.db"
    db.connect({"backend": "sqlite", "path": str(path)})
    yield path
    db.close()


@pytest.fixture
def make_pool(db_path: Path) -> Callable[..., VNetPool]:
    """``make_pool(mac_prefix="00:03", default_size=254)``: a pool on the test DB."""

    def make(mac_prefix: str | int = "00:03", default_size: int = 254) -> VNetPool:
        return VNetPool(mac_prefix, default_size, lambda uid: USERS.get(uid, ""))

    return make


@pytest.fixture
def pool(make_pool: Callable[..., VNetPool]) -> VNetPool:
    return make_pool()


class InProcessOned:
    """The RPC layer of oned in this process (RpcServer, real socket, real SQLite).

    Same ``post`` / ``call`` / ``restart`` / ``session`` interface as the
    ``oned`` fixture's :class:`OnedProcess`, for when a full daemon is not needed.
    """

    def __init__(self, tmp_path: Path):
        import hashlib

        self.tmp_path = tmp_path
        self.session = "oneadmin:" + hashlib.sha1(b"onepass").hexdigest()
        self.auth = tmp_path / "one_auth"
        self.auth.write_text("oneadmin:onepass\n")
        self.server = None
        self.start()

    def start(self) -> None:
        from one_core.daemon.core import Core
        from one_core.pools import vnet
        from one_core.pools.host import HostPool
        from one_core.pools.user import UserPool
        from one_core.rpc.app import RpcApp, RpcServer, load_method_modules

        db.connect({"backend": "sqlite", "path": str(self.tmp_path / "one.db")})
        users = UserPool()
        users.bootstrap(str(self.auth))
        cfg = type("Cfg", (), {"mac_prefix": "00:03", "network_size": 254})()
        core = Core(users=users, hosts=HostPool(), cfg=cfg)
        vnet.setup(core)
        load_method_modules()
        self.server = RpcServer(RpcApp(core), 0, host="127.0.0.1", threads=2)
        self.port = self.server.port
        self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
            db.close()

    def restart(self) -> InProcessOned:
        self.stop()
        self.start()
        return self

    def post(self, body: bytes, method: str = "POST", path: str = "/RPC2") -> tuple:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers={"Content-Type": "text/xml"})
            resp = conn.getresponse()
            return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
        finally:
            conn.close()

    def call(self, method: str, *params: object) -> object:
        from one_core.rpc.codec import encode_call, parse_response

        status, body, _ = self.post(encode_call(method, list(params)))
        assert status == 200, (status, body)
        ok, value = parse_response(body)
        return value if ok else ("FAULT", *value)


@pytest.fixture(params=["inprocess", "oned"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """An XML-RPC endpoint: the RPC layer in-process, or a real oned subprocess."""
    if request.param == "oned":
        yield request.getfixturevalue("oned")
        return
    srv = InProcessOned(tmp_path)
    yield srv
    srv.stop()


@pytest.fixture
def rpc(tmp_path: Path) -> Iterator[InProcessOned]:
    """The RPC layer in-process only (fast; the oned variant runs in ``server`` tests)."""
    srv = InProcessOned(tmp_path)
    yield srv
    srv.stop()
