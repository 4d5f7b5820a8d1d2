"""Object pools (users, hosts, virtual networks, VMs) and their XML documents.

Each pool keeps its objects in memory (loaded from the DB at start-up, like
1.4's pool caches), writes through to the DB inside :func:`one_core.db.writer`
on the engine's dispatcher thread (API changes go through
:class:`one_core.pools.writes.PoolWrites`, docs/architecture.md §4), and keeps a pre-rendered XML body per object so that info calls are string
joins. Helpers shared by the pool modules live here.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import peewee


def xml_text(value: object) -> str:
    """Escape text content for the 1.4 XML documents (decision X1: escape ``& < >``)."""
    s = str(value)
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    return s


@contextlib.contextmanager
def pool_write(lock: contextlib.AbstractContextManager[object]) -> Iterator[None]:
    """A pool change: :func:`one_core.db.writer` plus the pool's ``lock``.

    On the dispatcher an event already runs inside the writer's transaction, in a
    savepoint of its own (or first of its batch, alone in the transaction) that undoes a
    failed change: there no second savepoint is opened (it would cost more than the
    change itself), only the locks are taken.
    """
    from one_core import db
    from one_core.db.base import database

    if database.in_transaction():
        with db.write_lock, lock:  # re-entered: the writer of that transaction holds it
            yield
    else:
        with db.writer(), lock:
            yield


class IdCounter:
    """1.4's pool counter: ``MAX(oid)+1`` at start, incremented in memory (decision S10).

    :meth:`take` reserves the next id; :meth:`give_back` returns it after a
    failed insert so that the next object reuses it.
    """

    def __init__(self, last: int | None):
        self._next = -1 if last is None else last
        self._next += 1
        self._lock = threading.Lock()

    def take(self) -> int:
        with self._lock:
            oid = self._next
            self._next += 1
            return oid

    def give_back(self, oid: int) -> None:
        with self._lock:
            if oid == self._next - 1:
                self._next = oid

    @property
    def next(self) -> int:
        return self._next


_sql_cache: dict[tuple[str, str, str, str, tuple[str, ...]], str] = {}


def _sql(model: type[peewee.Model], kind: str, cols: tuple[str, ...]) -> str:
    from one_core.db.base import database

    key = (database.obj.param, database.obj.quote, model._meta.table_name, kind, cols)
    sql = _sql_cache.get(key)
    if sql is None:
        p = database.obj.param
        qc = database.obj.quote

        def q(name: str) -> str:
            return f"{qc[0]}{name}{qc[1]}"

        table = q(model._meta.table_name)
        if kind == "insert":
            sql = (
                f"INSERT INTO {table} ({', '.join(q(c) for c in cols)}) "
                f"VALUES ({', '.join(p for _ in cols)})"
            )
        else:
            primary = model._meta.primary_key
            if not primary:
                raise TypeError(f"{model.__name__} has no primary key to update by")
            pk = q(primary.column_name)
            sets = ", ".join(f"{q(c)} = {p}" for c in cols)
            sql = f"UPDATE {table} SET {sets} WHERE {pk} = {p}"
        _sql_cache[key] = sql
    return sql


def fast_insert(model: type[peewee.Model], values: dict[str, object]) -> None:
    """``INSERT`` one row with a cached statement (peewee's query building is slow)."""
    from one_core.db.base import database

    cols = tuple(values)
    database.execute_sql(_sql(model, "insert", cols), tuple(values.values()))


def fast_update(model: type[peewee.Model], pk: object, values: dict[str, object]) -> None:
    """``UPDATE … WHERE pk = ?`` with a cached statement."""
    from one_core.db.base import database

    cols = tuple(values)
    database.execute_sql(_sql(model, "update", cols), (*values.values(), pk))
