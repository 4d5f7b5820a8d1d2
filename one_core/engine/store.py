"""The dispatcher's :class:`~one_core.engine.dispatcher.Store`s: the database, and the
database plus the memory the engine keeps of it (cached VMs, hosts)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from one_core import db
from one_core.errors import OneError

if TYPE_CHECKING:
    from one_core.vm.pool import VMPool
    from one_core.vm.ports import HostPort


_SAVEPOINT = '"one_event"'


@contextlib.contextmanager
def event_savepoint() -> Iterator[None]:
    """One event of a batch in a SAVEPOINT of the batch's transaction: the statements
    peewee's nested ``atomic()`` runs (rolled back to on failure, released otherwise),
    without its objects and uuid name per savepoint. Savepoints nest by name, so a
    failed event's one, not released, is simply committed empty with the batch."""
    from one_core.db.base import database

    execute = database.execute_sql
    execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        yield
    except BaseException:
        execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        raise
    try:
        execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    except BaseException:
        execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        raise


class DatabaseStore:
    """One :func:`one_core.db.writer` transaction per batch (a SAVEPOINT per event but
    the first, on SQLite: :meth:`bare`); nothing kept in memory."""

    def transaction(self) -> contextlib.AbstractContextManager[Any]:
        return db.writer()

    def savepoint(self) -> contextlib.AbstractContextManager[Any]:
        return event_savepoint()

    def bare(self) -> bool:
        """SQLite: yes. A failed statement there leaves the transaction as it was (or,
        disk full or I/O error, ends it: transient, the batch is retried), so an event
        that caught a failure and went on commits what it wrote, as in its SAVEPOINT.
        PostgreSQL aborts the transaction up to the last SAVEPOINT instead: every event
        keeps its own."""
        import peewee

        from one_core.db.base import database

        return isinstance(database.obj, peewee.SqliteDatabase)

    def restart(self) -> None:
        """Roll back the batch's transaction (peewee's, with its rules) and begin it again."""
        from one_core.db.base import database

        database.top_transaction().rollback()

    def is_transient(self, exc: BaseException) -> bool:
        return db.is_transient(exc)

    def errors_seen(self) -> int:
        return db.errors_seen()

    def first_failure(self, exc: BaseException) -> BaseException:
        return db.first_failure(exc)

    def recover(self) -> None:
        db.reconnect()

    def begin(self) -> None:
        return None

    def mark(self) -> Any:
        return None

    def undo(self, mark: Any, error: BaseException) -> None:
        return None

    def end(self, committed: bool) -> None:
        return None


class EngineStore(DatabaseStore):
    """The database plus the engine's memory of it: a rolled-back event's VMs are read
    again from the database (and the hosts, whose share may be ahead of it)."""

    def __init__(self, pool: VMPool, hosts: HostPort) -> None:
        self.pool = pool
        self.hosts = hosts
        self._touched: set[int] = set()
        """VMs the events of the current batch got from the pool (before the last mark)."""

    def begin(self) -> None:
        self._touched = set()
        self.pool.touched.clear()

    def mark(self) -> None:
        """Before each event of a batch: what the earlier events touched is kept apart."""
        self._touched |= self.pool.touched
        self.pool.touched.clear()

    def undo(self, mark: Any, error: BaseException) -> None:
        """An event of a batch was rolled back: forget the VMs it touched and, unless it
        was a refusal (which changes nothing before raising), the hosts."""
        self.pool.invalidate(self.pool.touched)
        self._touched |= self.pool.touched
        self.pool.touched.clear()
        if not isinstance(error, OneError):
            self.reload_hosts()

    def end(self, committed: bool) -> None:
        if not committed:  # rolled back: nothing the batch did in memory may stay
            self.pool.invalidate(self._touched | self.pool.touched)
            self.reload_hosts()
        self._touched = set()
        self.pool.touched.clear()

    def recover(self) -> None:
        """A usable connection, and memory read back from the database (every cached VM,
        every host)."""
        db.reconnect()
        self.pool.invalidate()
        self.reload_hosts(strict=True)

    def reload_hosts(self, *, strict: bool = False) -> None:
        """Read the hosts back from the database (their share may be ahead of it).

        A database failure here is left to :meth:`recover` (``strict``: raised).
        """
        reload = getattr(getattr(self.hosts, "host_pool", None), "reload", None)
        if reload is None:
            return
        try:
            with db.write_lock:
                reload()
        except Exception as exc:
            if strict or not db.is_transient(exc):
                raise
