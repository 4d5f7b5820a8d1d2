"""The VM reads of the modern dialect: one SQL query each, filters and paging in SQL.

``one.vmpool.info(filter, start, end, state)`` semantics (current OpenNebula):
``end >= -1`` selects the id range ``start … end`` (``-1``: open end);
``end < -1`` is a page: ``-end`` VMs from offset ``start``. ``state`` ``-2`` is
any state, ``-1`` any but DONE, ``>= 0`` that state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from one_core.db.base import database
from one_core.vm.states import VmState

VM_COLUMNS = (
    "oid", "uid", "user_name", "name", "last_poll", "state", "lcm_state", "stime", "etime",
    "deploy_id", "memory", "cpu", "net_tx", "net_rx", "template_xml",
)  # fmt: skip
HISTORY_COLUMNS = (
    "seq", "host_name", "hid", "stime", "etime", "vm_mad", "tm_mad", "pstime", "petime",
    "rstime", "retime", "estime", "eetime", "reason",
)  # fmt: skip

_SELECT = (
    "SELECT "
    + ", ".join(("u." if c == "user_name" else "v.") + c for c in VM_COLUMNS)
    + ", "
    + ", ".join("h." + c for c in HISTORY_COLUMNS)
    + " FROM vm_pool v LEFT JOIN user_pool u ON u.oid = v.uid"
    " LEFT JOIN history h ON h.vid = v.oid AND h.seq = v.last_seq"
)

ANY_STATE, NOT_DONE = -2, -1

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PoolQuery:
    """What ``one.vmpool.info`` asked for (owner ``None``: every owner)."""

    owner: int | None
    state: int = NOT_DONE
    start: int = -1
    end: int = -1


def _split(r: tuple[Any, ...]) -> tuple[Row, Row | None]:
    n = len(VM_COLUMNS)
    vm = dict(zip(VM_COLUMNS, r[:n], strict=True))
    if r[n] is None:
        return vm, None
    return vm, dict(zip(HISTORY_COLUMNS, r[n:], strict=True))


def pool(q: PoolQuery) -> list[tuple[Row, Row | None]]:
    """The VMs ``q`` selects, by ascending id, each with its current history record."""
    sql, params = pool_sql(q)
    return [_split(r) for r in database.execute_sql(sql, params).fetchall()]


def pool_sql(q: PoolQuery) -> tuple[str, tuple[Any, ...]]:
    """:func:`pool`'s query and its parameters."""
    p = database.param
    conds: list[str] = []
    params: list[Any] = []
    if q.owner is not None:
        conds.append(f"v.uid = {p}")
        params.append(q.owner)
    if q.state == NOT_DONE:  # a constant, not a parameter: the partial indexes' term
        conds.append(f"v.state <> {int(VmState.DONE)}")
    elif q.state >= 0:
        conds.append(f"v.state = {p}")
        params.append(q.state)
    tail = ""
    if q.end >= -1:
        if q.start >= 0:
            conds.append(f"v.oid >= {p}")
            params.append(q.start)
        if q.end >= 0:
            conds.append(f"v.oid <= {p}")
            params.append(q.end)
    else:
        tail = f" LIMIT {p} OFFSET {p}"
    sql = _SELECT + (" WHERE " + " AND ".join(conds) if conds else "") + " ORDER BY v.oid" + tail
    if tail:
        params += [-q.end, max(q.start, 0)]
    return sql, tuple(params)


def one(vid: int) -> tuple[Row, list[Row]] | None:
    """VM ``vid`` with every history record (oldest first), or None."""
    p = database.param
    r = database.execute_sql(_SELECT + f" WHERE v.oid = {p}", (vid,)).fetchone()
    if r is None:
        return None
    vm, _ = _split(r)
    rows = database.execute_sql(
        f"SELECT {', '.join(HISTORY_COLUMNS)} FROM history WHERE vid = {p} ORDER BY seq", (vid,)
    ).fetchall()
    return vm, [dict(zip(HISTORY_COLUMNS, h, strict=True)) for h in rows]


def vms_by_host() -> dict[int, list[int]]:
    """Ids of the VMs on each host (ACTIVE or SUSPENDED, by their current record)."""
    p = database.param
    rows = database.execute_sql(
        "SELECT h.hid, v.oid FROM vm_pool v JOIN history h"
        f" ON h.vid = v.oid AND h.seq = v.last_seq WHERE v.state IN ({p}, {p}) ORDER BY v.oid",
        (int(VmState.ACTIVE), int(VmState.SUSPENDED)),
    ).fetchall()
    out: dict[int, list[int]] = defaultdict(list)
    for hid, vid in rows:
        out[hid].append(vid)
    return out
