"""The leader lock and the ``ha_node`` table, on a PostgreSQL connection of their own.

The leader is the node holding the session advisory lock
:data:`one_core.daemon.dblock.ADVISORY_KEY` — the same lock a single oned takes,
so a plain oned and an HA group can never both drive one database. The lock lives
as long as the session: PostgreSQL frees it the moment the leader's connection
ends (process killed, ``pg_terminate_backend``, TCP reset), with no expiry to tune.

``ha_node``: one row per node — its endpoint, role, pid, when it became leader,
its last heartbeat and the age of its read snapshot (a follower's lag), all in the
database server's clock. ``onehactl status`` reads it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from one_core.daemon.dblock import ADVISORY_KEY

log = logging.getLogger("one.ONE")

BOOT_KEY = ADVISORY_KEY + 1
"""Held while a node creates the schema / bootstraps oneadmin (one node at a time)."""

APP_PREFIX = "oned-ha:"
"""``application_name`` of every connection of a node: ``oned-ha:<node>``."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS ha_node (
    node      TEXT PRIMARY KEY,
    endpoint  TEXT NOT NULL,
    role      TEXT NOT NULL DEFAULT 'follower',
    pid       INTEGER NOT NULL DEFAULT 0,
    started   TIMESTAMPTZ NOT NULL DEFAULT now(),
    since     TIMESTAMPTZ,
    heartbeat TIMESTAMPTZ NOT NULL DEFAULT now(),
    snapshot  TIMESTAMPTZ,
    confirmed TIMESTAMPTZ
)
"""

_HOLDS_LOCK = (
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    " AND classid = %s AND objid = %s AND objsubid = 1 AND granted)"
)


@dataclass
class NodeRow:
    """One row of ``ha_node`` with ages computed by the database server."""

    node: str
    endpoint: str
    role: str
    pid: int
    since: datetime | None
    heartbeat_age: float
    snapshot_age: float | None


class Elector:
    """A node's own connection: the lock, its heartbeat, the leader's name.

    ``connect`` makes a new psycopg2 connection (``peewee.PostgresqlDatabase._connect``).
    """

    def __init__(self, connect: Any, node: str, endpoint: str):
        self._connect = connect
        self.node = node
        self.endpoint = endpoint
        self.conn: Any = None
        self._lock = threading.RLock()

    # -- connection --------------------------------------------------------------
    def open(self) -> None:
        self.close()
        conn = self._connect()
        conn.autocommit = True
        self.conn = conn

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            if self.conn is None:
                self.open()
            with self.conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description is not None else []

    # -- schema and boot -----------------------------------------------------------
    @contextlib.contextmanager
    def boot_lock(self) -> Any:
        """One node at a time creates the tables and bootstraps oneadmin."""
        self._exec("SELECT pg_advisory_lock(%s)", (BOOT_KEY,))
        try:
            self._exec(SCHEMA)
            yield
        finally:
            self._exec("SELECT pg_advisory_unlock(%s)", (BOOT_KEY,))

    def register(self, pid: int) -> None:
        """This node's row: a follower, alive now."""
        self._exec(
            "INSERT INTO ha_node (node, endpoint, role, pid, started, heartbeat)"
            " VALUES (%s, %s, 'follower', %s, now(), now())"
            " ON CONFLICT (node) DO UPDATE SET endpoint = EXCLUDED.endpoint,"
            " role = 'follower', pid = EXCLUDED.pid, started = now(), since = NULL,"
            " heartbeat = now()",
            (self.node, self.endpoint, pid),
        )

    # -- the lock ------------------------------------------------------------------
    def try_acquire(self) -> bool:
        """Take the leader lock if free (never waits); on success the ``confirmed``
        time of this node is written at once (see :meth:`previous_validity`)."""
        ((got,),) = self._exec("SELECT pg_try_advisory_lock(%s)", (ADVISORY_KEY,))
        if got:
            self._exec("UPDATE ha_node SET confirmed = now() WHERE node = %s", (self.node,))
        return bool(got)

    def previous_validity(self, lease: float) -> float:
        """Seconds until every other node's leadership has surely run out.

        A leader is valid for ``lease`` seconds after the start of its last successful
        confirmation, and each confirmation writes ``confirmed = now()`` before it
        answers: no other node is valid past ``max(confirmed) + lease`` (server clock).
        """
        ((left,),) = self._exec(
            "SELECT COALESCE(EXTRACT(EPOCH FROM max(confirmed) - now())::float8, -1e9) + %s"
            " FROM ha_node WHERE node <> %s",
            (lease, self.node),
        )
        return max(0.0, float(left))

    def became_leader(self) -> None:
        """Mark this node leader (others that still say so are followers now)."""
        self._exec(
            "UPDATE ha_node SET role = CASE WHEN node = %s THEN 'leader' ELSE 'follower' END,"
            " since = CASE WHEN node = %s THEN now() ELSE NULL END"
            " WHERE node = %s OR role = 'leader'",
            (self.node, self.node, self.node),
        )

    def fence_old_leader(self) -> list[str]:
        """End every database connection of the previous leader (its pooled connections
        too): a leader that has lost the lock writes nothing more. Returns the nodes."""
        rows = self._exec(
            "SELECT node FROM ha_node WHERE role = 'leader' AND node <> %s", (self.node,)
        )
        old = [r[0] for r in rows]
        for node in old:
            self._exec(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s AND pid <> pg_backend_pid()",
                (APP_PREFIX + node,),
            )
        return old

    def confirm(self) -> bool:
        """Leader heartbeat: True when this session still holds the lock."""
        rows = self._exec(
            f"UPDATE ha_node SET heartbeat = now(), snapshot = now(), confirmed = now()"
            f" WHERE node = %s"
            f" RETURNING {_HOLDS_LOCK}",
            (self.node, (ADVISORY_KEY >> 32) & 0xFFFFFFFF, ADVISORY_KEY & 0xFFFFFFFF),
        )
        return bool(rows and rows[0][0])

    # -- followers -----------------------------------------------------------------
    def heartbeat(self, snapshot: bool) -> None:
        """Follower heartbeat; ``snapshot``: its read copy was refreshed just now."""
        self._exec(
            "UPDATE ha_node SET heartbeat = now(),"
            " snapshot = CASE WHEN %s THEN now() ELSE snapshot END WHERE node = %s",
            (snapshot, self.node),
        )

    def leader(self) -> tuple[str, str] | None:
        """``(node, endpoint)`` of the current leader, if any."""
        rows = self._exec(
            "SELECT node, endpoint FROM ha_node WHERE role = 'leader' ORDER BY since DESC LIMIT 1"
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def nodes(self) -> list[NodeRow]:
        """Every node, leader first."""
        rows = self._exec(
            "SELECT node, endpoint, role, pid, since,"
            " EXTRACT(EPOCH FROM now() - heartbeat)::float8,"
            " EXTRACT(EPOCH FROM now() - snapshot)::float8"
            " FROM ha_node ORDER BY role = 'leader' DESC, node"
        )
        return [NodeRow(*r) for r in rows]
