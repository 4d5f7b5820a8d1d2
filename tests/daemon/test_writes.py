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


def test_strict_rehash_at_first_login_runs_on_the_dispatcher(core: Core) -> None:
    """Strict mode rehashes a 1.4 password (bare SHA-1) at its first successful login:
    a write like any other, so on the dispatcher, not on the RPC thread."""
    sha1 = hashlib.sha1(b"pw").hexdigest()
    uid = core.writes.user_allocate("dave", sha1)  # a row written in 1.4 mode
    core.users.hash_passwords = True
    seen: list[tuple[str, str]] = []
    real = core.users.store_rehash

    def store_rehash(*args: Any) -> bool:
        seen.append(("store_rehash", threading.current_thread().name))
        return real(*args)

    core.users.store_rehash = store_rehash  # type: ignore[method-assign]
    app = RpcApp(core)
    session = f"dave:{sha1}"
    for _ in range(2):  # the second login finds the hash and verifies against it
        answer = parse_response(app.handle(encode_call("one.vmpool.info", [session, -1])))[1]
        assert answer[0] is True, answer
    assert seen == [("store_rehash", "one-dispatcher")]
    user = core.users.get(uid)
    assert user is not None and is_hashed(user.password)
    assert core.users.authenticate(session) == uid


def test_rehash_leaves_a_password_changed_meanwhile(core: Core) -> None:
    uid = core.writes.user_allocate("erin", hashlib.sha1(b"old").hexdigest())
    core.users.hash_passwords = True
    got, rehash = core.users.verify(f"erin:{hashlib.sha1(b'old').hexdigest()}")
    assert got == uid and rehash is not None
    user = core.users.get(uid)
    assert user is not None
    assert core.users.store_rehash(uid, "something else", rehash[1]) is False
    assert not is_hashed(user.password)
    assert core.users.store_rehash(uid, *rehash) is True and is_hashed(user.password)


def test_network_readers_do_not_wait_for_a_transaction(core: Core) -> None:
    """``one.vn.info`` / ``one.vnpool.info`` read the pool's memory under its own lock,
    not the database write lock that the dispatcher holds through each batch."""
    pool = core.need_vnet()
    nid = core.writes.vnet_allocate(0, 'NAME = "n"\nBRIDGE = br0\nLEASES = [ IP = 10.0.0.1 ]\n')
    held, release = threading.Event(), threading.Event()

    def writer() -> None:  # a long transaction, as a dispatcher batch is
        with db.write_lock:
            held.set()
            release.wait(10)

    w = threading.Thread(target=writer)
    w.start()
    try:
        assert held.wait(5)
        answers: list[str | None] = []
        r = threading.Thread(target=lambda: answers.extend([pool.info_xml(nid), pool.pool_xml()]))
        r.start()
        r.join(2)
        assert not r.is_alive(), "a network reader waited for the write lock"
        assert answers[0] is not None and "<NAME>n</NAME>" in answers[0]
        assert "<NAME>n</NAME>" in str(answers[1])
    finally:
        release.set()
        w.join()
        r.join()


def test_failed_logins_write_nothing(core: Core) -> None:
    """Strict mode counts failed logins in memory only (docs/security.md): a password
    guesser, unauthenticated, must not be able to make the database write."""
    from one_core.rpc.security import LoginGuard

    core.writes.user_allocate("gina", hashlib.sha1(b"pw").hexdigest())
    core.users.hash_passwords = True
    core.users.guard = LoginGuard()
    statements: list[str] = []

    def hook(event: Any) -> None:
        statements.append(event.sql.split(None, 1)[0].upper())

    dbobj = db.database.obj
    dbobj.query_hooks.append(hook)
    try:
        app = RpcApp(core)
        for _ in range(20):  # past the lock-out (5 free failures)
            body = app.handle(encode_call("one.vmpool.info", ["gina:" + "0" * 40, -1]))
            assert parse_response(body)[1][0] is False
    finally:
        dbobj.query_hooks.remove(hook)
    assert not {"INSERT", "UPDATE", "DELETE", "REPLACE"} & set(statements), statements
    assert not core.users.guard.allow("gina")  # locked out, all the same
