"""``one.vmpool.info`` from the stored fragments (``vm_pool.pool_xml``, issue 19).

Each check compares the listing with the document rendered afresh from the committed
rows (peewee rows of ``vm_pool``, ``history`` and ``user_pool`` and the tag lists of
:mod:`one_core.vm.xml`): a fragment that missed a change, a rolled-back change that
stayed, or a byte of escaping off shows up as a difference.
"""

from __future__ import annotations

from typing import Any

import pytest

from one_core import db
from one_core.db.models import UserRow
from one_core.db.vm_models import HistoryRow, VMRow
from one_core.rpc.codec import EscapedBytes, encode_response
from one_core.rpc.codec import escape as rpc_escape
from one_core.vm import listing, xml
from one_core.vm.states import VmState

ODD = "a&b<c>d\rq"
"""A text with every character either escaping touches."""


def reference(uid: int | None = None) -> str:
    """``one.vmpool.info``'s document rendered from the committed rows (as 1.4 did)."""
    users = {u.oid: u.user_name for u in UserRow.select()}
    query = VMRow.select().where(VMRow.state != int(VmState.DONE)).order_by(VMRow.oid)
    if uid is not None:
        query = query.where(VMRow.uid == uid)
    parts = ["<VM_POOL>"]
    for row in query:
        data: dict[str, Any] = row.__data__
        record = HistoryRow.get_or_none(
            (HistoryRow.vid == row.oid) & (HistoryRow.seq == row.last_seq)
        )
        parts.append(
            f"<VM><ID>{row.oid}</ID><UID>{row.uid}</UID>"
            f"<USERNAME>{xml.escape(users.get(row.uid, ''))}</USERNAME>"
            + "".join(f"<{tag}>{xml.escape(data[key])}</{tag}>" for tag, key in xml._BODY)
            + xml.history_xml(None if record is None else record.__data__)
            + "</VM>"
        )
    parts.append("</VM_POOL>")
    return "".join(parts)


def check(env: Any, *owners: int) -> None:
    """The listing (plain and as sent, escaped) equals :func:`reference`, also by owner."""
    for uid in (None, *owners):
        expected = reference(uid)
        assert env.pool.pool_xml(uid) == expected
        wire = env.pool.pool_xml(uid, rpc_escaped=True)
        assert type(wire) is EscapedBytes and bytes(wire) == rpc_escape(expected).encode()
        assert encode_response([True, wire]) == encode_response([True, expected])


def test_listing_follows_every_change(env):
    with db.writer():
        UserRow.create(oid=0, user_name="oneadmin", password="x")
        UserRow.create(oid=3, user_name=ODD, password="x")
    a = env.allocate(f'NAME="{ODD}"\nCPU=0.1\nMEMORY=64\n')
    b = env.allocate("NAME=b\n", uid=3)
    c = env.allocate("NAME=c\n", uid=9)  # an owner that does not exist: empty USERNAME
    check(env, 3, 9)
    env.running(a)  # history records and their stamps
    env.running(b, env.node2)
    check(env, 3)
    env.engine.migrate(a, env.node2, True)  # a new current record
    env.settle()
    check(env)
    env.on_dispatcher(
        env.engine.vmm.poll_result,
        env.engine.pool.get(a),
        {"USEDMEMORY": 512, "USEDCPU": 7, "NETTX": 10, "NETRX": 20},
    )
    env.settle()
    assert "<MEMORY>512</MEMORY><CPU>7</CPU><NET_TX>10</NET_TX>" in env.pool.pool_xml(None)
    check(env)

    def stamp() -> None:  # a record written without its row (lcm's time stamps)
        vm = env.pool.get(b)
        vm.history.retime = 12345
        env.pool.update_history(vm)

    env.on_dispatcher(stamp)
    assert "<RETIME>12345</RETIME>" in env.pool.pool_xml(3)
    check(env, 3)
    env.act("stop", b)  # epilog: the record stamped, the VM STOPPED
    env.act("hold", c)
    check(env, 3, 9)
    env.act("finalize", c)  # DONE: out of the listing
    assert f"<ID>{c}</ID>" not in env.pool.pool_xml(None)
    with db.writer():  # a deleted owner: USERNAME empty at once, without a VM write
        UserRow.delete().where(UserRow.oid == 3).execute()
    check(env, 3)
    d = env.allocate("NAME=d\n", uid=9)
    with db.writer():  # an owner created after the VM: its name at once
        UserRow.create(oid=9, user_name="<late>", password="x")
    assert "<USERNAME>&lt;late&gt;</USERNAME><NAME>d</NAME>" in env.pool.pool_xml(9)
    check(env, 3, 9)
    listing.forget_owners()
    env.act("hold", d)  # written again: the entry keeps the new name
    assert VMRow.get_by_id(d).owner_name == "<late>"
    check(env, 9)


def test_rolled_back_write_leaves_the_listing(env):
    vid = env.allocate("NAME=a\n")
    before = env.pool.pool_xml(None)

    def change_then_fail() -> None:
        vm = env.pool.get(vid)
        vm.name, vm.memory = "renamed", 99
        with db.writer():
            env.pool.write(vm)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        env.on_dispatcher(change_then_fail)
    env.pool.invalidate({vid})
    assert env.pool.pool_xml(None) == before == reference()


def test_migration_renders_the_fragments(env):
    """A schema-1 database (no ``pool_xml``) gets the column and every fragment."""
    with db.writer():
        UserRow.create(oid=0, user_name=ODD, password="x")
    a = env.allocate("NAME=a\n")
    env.running(a)
    env.allocate(f'NAME="{ODD}"\n')
    expected = reference()
    with db.writer():
        db.database.execute_sql("ALTER TABLE vm_pool DROP COLUMN pool_xml")
        db.database.execute_sql("ALTER TABLE vm_pool DROP COLUMN owner_name")
        db.SchemaVersion.update(version=1).execute()
        db._migrate(db.SchemaVersion.get())
    assert db.SchemaVersion.get().version == db.SCHEMA_VERSION
    assert env.pool.pool_xml(None) == expected
    check(env)


@pytest.mark.one_db("sqlite")
def test_live_vms_read_by_index(env):
    """The 1.4 listing and the modern first page read the VMs that are not DONE through
    ``vm_pool_live`` (DONE VMs are kept for good: a scan would walk all of them)."""
    from one_core.rpc.modern import vm_query

    def plan(sql: str, params: tuple[Any, ...] = ()) -> str:
        rows = db.database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return " ".join(str(r[-1]) for r in rows)

    assert "vm_pool_live" in plan(listing._document_sql(False, False))
    assert "vm_pool_live" in plan(*vm_query.pool_sql(vm_query.PoolQuery(None, -1, 0, -100)))


def test_entries_are_fetched_a_few_at_a_time(env, monkeypatch):
    """The listing takes rows from the cursor :data:`listing.FETCH_ROWS` at a time into
    parts of :data:`listing.ROWS_PER_PART` entries (a 1,024-row fetch spread its small
    objects over allocator arenas that stayed: +1.1 MiB after listings of 10,000 VMs);
    the document is the same."""
    monkeypatch.setattr(listing, "FETCH_ROWS", 2)
    monkeypatch.setattr(listing, "ROWS_PER_PART", 4)
    for i in range(9):
        env.allocate(f"NAME=v{i}\n")
    fetches: list[int] = []
    real = db.database.obj  # the proxy forwards to it
    execute = real.execute_sql

    class Cursor:
        def __init__(self, cursor: Any) -> None:
            self.cursor = cursor

        def fetchmany(self, size: int) -> list[Any]:
            rows = self.cursor.fetchmany(size)
            fetches.append(len(rows))
            return rows

    monkeypatch.setattr(real, "execute_sql", lambda *a, **k: Cursor(execute(*a, **k)))
    wire = listing.document(None)
    monkeypatch.undo()
    assert fetches == [2, 2, 2, 2, 1, 0]
    assert [len(bytes(p).split(b"&lt;/VM&gt;")) - 1 for p in wire.parts[1:-1]] == [4, 4, 1]
    assert bytes(wire) == rpc_escape(reference()).encode()
