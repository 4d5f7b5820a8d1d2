"""one_core.db: connection, schema, migrations, single writer; SQLite and PostgreSQL.

The PostgreSQL variants run against the session's throwaway server
(``pg_server`` of the one_core.testing plugin, :mod:`one_core.testing.postgres`).
"""

from __future__ import annotations

import concurrent.futures
import os
import sqlite3
import threading
from types import SimpleNamespace

import peewee
import pytest

from one_core import db
from one_core.db.base import BaseModel
from one_core.pools.host import HostPool
from one_core.pools.user import UserPool


@pytest.fixture(params=["sqlite", "postgresql"])
def dbopts(request, tmp_path):
    if request.param == "sqlite":
        opts = {"backend": "sqlite"}
    else:
        server = request.getfixturevalue("pg_server")
        opts = server.create_database()
        request.addfinalizer(lambda: server.release_database(opts["name"]))
    yield opts, str(tmp_path)
    db.close()


def test_connect_creates_schema_and_reports_fresh(dbopts):
    opts, var = dbopts
    dbobj, fresh = db.connect(opts, var_dir=var)
    assert fresh is True
    tables = set(dbobj.get_tables())
    assert {"schema_version", "user_pool", "host_pool"} <= tables
    assert db.SchemaVersion.get().version == db.SCHEMA_VERSION
    db.close()
    _, fresh = db.connect(opts, var_dir=var)
    assert fresh is False


def test_sqlite_pragmas(tmp_path):
    dbobj, _ = db.connect({}, var_dir=str(tmp_path))
    assert dbobj.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert dbobj.execute_sql("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert dbobj.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert os.path.exists(tmp_path / "one.db")
    db.close()


def test_sqlite_page_cache_is_bounded_per_connection(tmp_path):
    """Issue 17's soak: every thread that touches the database has a connection, and
    SQLite's default page cache (2,000 KiB each) grew oned's RSS by ~10 MiB as the
    database grew; each connection's cache is 512 KiB unless ``CACHE_SIZE`` says."""

    def cache_size_on_a_new_thread(dbobj) -> int:
        seen = []
        t = threading.Thread(
            target=lambda: seen.append(dbobj.execute_sql("PRAGMA cache_size").fetchone()[0])
        )
        t.start()
        t.join()
        return seen[0]

    dbobj, _ = db.connect({}, var_dir=str(tmp_path))
    assert dbobj.execute_sql("PRAGMA cache_size").fetchone()[0] == -db.SQLITE_CACHE_KIB == -512
    assert cache_size_on_a_new_thread(dbobj) == -512
    db.close()
    dbobj, _ = db.connect({"CACHE_SIZE": "64"}, var_dir=str(tmp_path))
    assert cache_size_on_a_new_thread(dbobj) == -64
    db.close()
    with pytest.raises(ValueError, match="CACHE_SIZE must be at least 1"):
        db.make_database({"CACHE_SIZE": "-3"}, str(tmp_path))


def test_sqlite_memory_has_one_soft_limit(tmp_path):
    """Issue 19: each RPC thread's connection filled its page cache with the table a
    listing scanned; one soft limit for SQLite's memory in the process (512 KiB unless
    ``HEAP_LIMIT`` says) makes the caches give pages back instead."""
    dbobj, _ = db.connect({}, var_dir=str(tmp_path))
    assert dbobj.execute_sql("PRAGMA soft_heap_limit").fetchone()[0] == 512 * 1024
    db.close()
    dbobj, _ = db.connect({"HEAP_LIMIT": "4096"}, var_dir=str(tmp_path))
    assert dbobj.execute_sql("PRAGMA soft_heap_limit").fetchone()[0] == 4096 * 1024
    db.close()
    with pytest.raises(ValueError, match="HEAP_LIMIT must be at least 1"):
        db.make_database({"HEAP_LIMIT": "-3"}, str(tmp_path))


def test_pools_persist(dbopts):
    opts, var = dbopts
    db.connect(opts, var_dir=var)
    users, hosts = UserPool(), HostPool()
    assert users.allocate("oneadmin", "x") == 0
    assert users.allocate("u", "y") == 1
    with pytest.raises(ValueError):
        users.allocate("u", "z")
    h = hosts.allocate("n", "im", "vmm", "tm")
    hosts.monitor_result(h, {"TOTALCPU": "800", "X": "1"}, now=42)
    hosts.add_capacity(h, 150, 2048)
    db.close()
    db.connect(opts, var_dir=var)
    users2, hosts2 = UserPool(), HostPool()
    assert users2.pool_xml() == users.pool_xml()
    assert hosts2.info_xml(h) == hosts.info_xml(h)
    assert "<CPU_USAGE>150</CPU_USAGE>" in hosts2.info_xml(h)
    assert "<RUNNING_VMS>1</RUNNING_VMS>" in hosts2.info_xml(h)
    assert users2.allocate("v", "w") == 2


def test_concurrent_writers_get_unique_ids(dbopts):
    opts, var = dbopts
    db.connect(opts, var_dir=var)
    hosts = HostPool()
    ids: list[int] = []
    lock = threading.Lock()

    def work():
        for i in range(50):
            hid = hosts.allocate(f"h{i}", "a", "b", "c")
            with lock:
                ids.append(hid)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ids) == list(range(200))
    db.close()
    db.connect(opts, var_dir=var)
    assert len(HostPool()) == 200


def test_register_models_and_migrations(tmp_path):
    class Extra(BaseModel):
        x = peewee.IntegerField()

    db.connect({}, var_dir=str(tmp_path))
    db.register_models(Extra)  # after connect: created right away
    Extra.create(x=1)
    assert Extra.select().count() == 1
    db.close()

    ran = []
    old = db.SCHEMA_VERSION
    try:
        db.SCHEMA_VERSION = old + 1
        db.register_migration(old + 1, lambda d: ran.append(d))
        db.connect({}, var_dir=str(tmp_path))
        assert len(ran) == 1 and db.SchemaVersion.get().version == old + 1
        db.close()
        db.connect({}, var_dir=str(tmp_path))
        assert len(ran) == 1  # not again
    finally:
        db.SCHEMA_VERSION = old
        db._migrations.pop(old + 1, None)
        db._models.remove(Extra)
        db.close()


def test_unknown_backend(tmp_path):
    with pytest.raises(ValueError, match="Unknown DB backend"):
        db.make_database({"BACKEND": "oracle"}, str(tmp_path))


def _loads_psycopg2(pid: int) -> bool:
    """Whether process ``pid`` has psycopg2's C extension (and so libpq) mapped."""
    with open(f"/proc/{pid}/maps") as maps:
        return "_psycopg" in maps.read()


def test_sqlite_oned_loads_no_postgresql_client(oned_factory):
    """Issue 15: peewee imports psycopg2 whenever it is installed (about 5 MiB of idle
    RSS); an oned on SQLite imports peewee without it (one_core/dbclient.py)."""
    import psycopg2  # noqa: F401  # installed here: the case that used to load it

    o = oned_factory()
    assert o.call("one.hostpool.info", o.session)[0] is True
    assert not _loads_psycopg2(o.proc.pid)


def test_import_peewee_hides_clients_only_for_sqlite():
    """:func:`import_peewee` hides the other databases' clients only while peewee is
    imported, for SQLite only (run in fresh interpreters: peewee is imported here)."""
    import subprocess
    import sys

    probe = (
        "import sys; from one_core.dbclient import import_peewee; import_peewee({!r}); "
        "import peewee; loaded = 'psycopg2' in sys.modules; import psycopg2; "
        "print(loaded, peewee.psycopg2 is not None)"
    )
    out = {
        backend: subprocess.run(
            [sys.executable, "-c", probe.format(backend)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for backend in ("sqlite", "postgresql")
    }
    assert out == {"sqlite": ["False", "False"], "postgresql": ["True", "True"]}


def test_oned_on_postgresql(pg_server, oned_factory):
    import hashlib

    opts = pg_server.create_database()
    section = (
        f'DB = [ backend = "postgresql", host = "{opts["host"]}", port = "{opts["port"]}", '
        f'user = "{opts["user"]}", name = "{opts["name"]}" ]\n'
        'IM_MAD = [ name = "im_dummy", driver = "dummy" ]\n'
        'VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]\n'
        'TM_MAD = [ name = "tm_dummy", driver = "dummy" ]\n'
    )
    o = oned_factory(sections=section)
    s = "oneadmin:" + hashlib.sha1(b"onepass").hexdigest()
    assert o.call("one.host.allocate", s, "h", "im_dummy", "vmm_dummy", "tm_dummy") == [True, 0]
    pool = o.call("one.hostpool.info", s)
    o.kill9()
    o.start()
    assert o.call("one.hostpool.info", s) == pool
    assert not (o.var / "one.db").exists()
    assert _loads_psycopg2(o.proc.pid)


def test_first_failure_shows_the_cause_not_the_rollback_after_it():
    """A full disk ends SQLite's transaction: the RELEASE/ROLLBACK after it fails with "no
    such savepoint" / "no transaction is active". The failure shown is the full disk: from
    the exception chain, else the last cause this thread's statements met."""
    full = sqlite3.OperationalError("database or disk is full")
    try:
        try:
            raise full
        except sqlite3.OperationalError:
            raise sqlite3.OperationalError("cannot rollback - no transaction is active")  # noqa: B904
    except sqlite3.OperationalError as chained:
        assert db.first_failure(chained) is full

    def on_a_thread() -> BaseException:
        db._note_query(SimpleNamespace(exception=full))  # a statement met the full disk
        db._note_query(SimpleNamespace(exception=sqlite3.OperationalError("no such savepoint: e")))
        return db.first_failure(sqlite3.OperationalError("no such savepoint: one_event"))

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        assert pool.submit(on_a_thread).result() is full
        other = sqlite3.OperationalError("no such savepoint: x")
        assert pool.submit(db.first_failure, other).result() is full  # same thread, kept
    with concurrent.futures.ThreadPoolExecutor(1) as fresh:  # met no cause: shows what it has
        assert fresh.submit(db.first_failure, other).result() is other
