"""One write path: API changes to hosts, users and networks run on the engine's dispatcher."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from one_core import db
from one_core.config import OnedConfig
from one_core.daemon.core import Core
from one_core.pools import vnet
from one_core.pools.host import HostPool
from one_core.pools.user import UserPool, is_hashed
from one_core.rpc.app import RpcApp
from one_core.rpc.codec import encode_call, parse_response
from one_core.rpc.registry import load_methods

S = "oneadmin:" + hashlib.sha1(b"onepass").hexdigest()
WRITES = ("allocate", "delete", "enable", "allocate_template")


def recording(pool: Any, seen: list[tuple[str, str]]) -> None:
    """Record the thread of every write method of ``pool`` (the real method still runs)."""
    for name in WRITES:
        real = getattr(pool, name, None)
        if real is None:
            continue

        def wrapper(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            seen.append((f"{type(pool).__name__}.{_name}", threading.current_thread().name))
            return _real(*args, **kw)

        setattr(pool, name, wrapper)


@pytest.fixture
def core(tmp_path: Path, db_options: dict[str, Any]) -> Iterator[Core]:
    from one_core.engine.setup import setup as engine_setup

    db.connect(db_options, var_dir=str(tmp_path))
    auth = tmp_path / "one_auth"
    auth.write_text("oneadmin:onepass\n")
    users = UserPool()
    users.bootstrap(str(auth))
    cfg = OnedConfig.from_text('MAC_PREFIX = "00:03"\n', var_dir=str(tmp_path))
    core = Core(users=users, hosts=HostPool(), cfg=cfg)
    vnet.setup(core)
    engine_setup(core)
    load_methods()
    core.start_services()
    try:
        yield core
    finally:
        core.stop_services()
        db.close()


def call(app: RpcApp, method: str, *params: Any) -> Any:
    return parse_response(app.handle(encode_call(method, [S, *params])))[1]


def test_api_writes_of_every_pool_run_on_the_dispatcher(core: Core) -> None:
    seen: list[tuple[str, str]] = []
    for pool in (core.hosts, core.users, core.need_vnet()):
        recording(pool, seen)
    app = RpcApp(core)
    hid = call(app, "one.host.allocate", "node1", "im", "vmm", "tm")[1]
    assert call(app, "one.host.enable", hid, False) == [True]
    assert call(app, "one.host.delete", hid) == [True]
    uid = call(app, "one.user.allocate", "alice", "pw")[1]
    assert call(app, "one.user.delete", uid) == [True]
    nid = call(app, "one.vn.allocate", 'NAME = "net"\nBRIDGE = br0\nLEASES = [ IP = 10.0.0.1 ]\n')[
        1
    ]
    assert call(app, "one.vn.delete", nid) == [True]
    assert [name for name, _ in seen] == [
        "HostPool.allocate",
        "HostPool.enable",
        "HostPool.delete",
        "UserPool.allocate",
        "UserPool.delete",
        "VNetPool.allocate",
        "VNetPool.allocate_template",  # called by allocate
        "VNetPool.delete",
    ]
    assert {thread for _, thread in seen} == {"one-dispatcher"}


def test_errors_come_back_unchanged(core: Core) -> None:
    app = RpcApp(core)
    assert call(app, "one.user.allocate", "bob", "pw")[0] is True
    assert call(app, "one.user.allocate", "bob", "pw") == [False, "Existing user, cannot duplicate"]
    bad = call(app, "one.vn.allocate", "NAME = ")
    assert bad[0] is False and bad[1].startswith("Error allocating VN with template:")


def test_new_password_is_hashed_before_the_dispatcher(core: Core) -> None:
    core.users.hash_passwords = True
    uid = core.writes.user_allocate("carol", "secret")
    user = core.users.get(uid)
    assert user is not None and is_hashed(user.password)
