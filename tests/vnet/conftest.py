"""Fixtures for the virtual network tests: a real database and pools on it.

Every test here runs on SQLite and on PostgreSQL (``db_backend``, see
:mod:`one_core.testing.databases`); the ones about SQLite's file locking are
marked ``one_db("sqlite")``.
"""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from one_core import db
from one_core.pools.vnet import VNetPool
from one_core.testing.databases import parametrize_databases as pytest_generate_tests  # noqa: F401
from one_core.testing.oned import RpcEndpoint

WIRE = Path(__file__).parents[1] / "data" / "one14" / "wire"
"""The wire captures recorded from the real 1.4 oned (shipped with the tests)."""

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
def db_path(tmp_path: Path, db_options: dict[str, Any]) -> Iterator[Path | None]:
    """A fresh database, connected as :data:`one_core.db.database`: its SQLite file
    (``None`` on PostgreSQL)."""
    db.connect(db_options, var_dir=str(tmp_path))
    yield Path(db_options["path"]) if db_options["backend"] == "sqlite" else None
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


class InProcessOned(RpcEndpoint):
    """The RPC layer of oned in this process (RpcServer, real socket, real SQLite).

    Same ``post`` / ``call`` / ``restart`` / ``session`` interface as the
    ``oned`` fixture's :class:`OnedProcess`, for when a full daemon is not needed.
    """

    def __init__(self, tmp_path: Path, db_options: dict[str, Any]):
        import hashlib

        self.tmp_path = tmp_path
        self.db_options = db_options
        self.session = "oneadmin:" + hashlib.sha1(b"onepass").hexdigest()
        self.auth = tmp_path / "one_auth"
        self.auth.write_text("oneadmin:onepass\n")
        self.server = None
        self.start()

    def start(self) -> None:
        from one_core.config import OnedConfig
        from one_core.daemon.core import Core
        from one_core.pools import vnet
        from one_core.pools.host import HostPool
        from one_core.pools.user import UserPool
        from one_core.rpc.app import RpcApp, RpcServer
        from one_core.rpc.registry import load_methods

        db.connect(self.db_options, var_dir=str(self.tmp_path))
        users = UserPool()
        users.bootstrap(str(self.auth))
        cfg = OnedConfig.from_text('MAC_PREFIX = "00:03"\n', var_dir=str(self.tmp_path))
        core = Core(users=users, hosts=HostPool(), cfg=cfg)
        vnet.setup(core)
        load_methods()
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


@pytest.fixture(params=["inprocess", "oned"])
def server(
    request: pytest.FixtureRequest, tmp_path: Path, db_options: dict[str, Any]
) -> Iterator[object]:
    """An XML-RPC endpoint: the RPC layer in-process, or a real oned subprocess."""
    if request.param == "oned":
        yield request.getfixturevalue("oned")
        return
    srv = InProcessOned(tmp_path, db_options)
    yield srv
    srv.stop()


@pytest.fixture
def rpc(tmp_path: Path, db_options: dict[str, Any]) -> Iterator[InProcessOned]:
    """The RPC layer in-process only (fast; the oned variant runs in ``server`` tests)."""
    srv = InProcessOned(tmp_path, db_options)
    yield srv
    srv.stop()
