"""``one.vmpool.info`` from stored entries: a listing is one SQL aggregate of ready text.

Each VM's ``<VM>…</VM>`` entry of the listing is rendered when the VM is written and
stored in its ``vm_pool`` row (``pool_xml``, same statement, same transaction), already
escaped as it goes on the wire: XML-escaped values (:func:`one_core.vm.xml.escape`) in a
document that is then XML-RPC-escaped (:func:`one_core.rpc.codec.escape`). A listing
reads the stored entries in id order as bytes, joined a few hundred at a time into the
parts of the answer, which go to the socket as they are
(:class:`~one_core.rpc.codec.EscapedBytes`, never decoded nor joined into one buffer):
the same bytes as rendering every row, without rendering or escaping anything per call,
and nothing rendered again after a restart.

What an entry shows and who rewrites it:

* the ``vm_pool`` columns and the current history record (``seq = last_seq``): every
  write of either goes through :class:`one_core.vm.pool.VMPool`, which renders the entry
  from the same values it writes (:meth:`~one_core.vm.pool.VMPool.write`,
  :meth:`~one_core.vm.pool.VMPool.update_history`, ``insert_history``);
* ``USERNAME``, the owner's name from ``user_pool``, the one value that changes without
  a VM write (a user deleted, or created for an uid that had none): the row keeps the
  name its entry was rendered with (``owner_name``) and the listing query compares it
  with ``user_pool``; an entry whose owner changed gets its head rendered again in SQL
  (same escaping, :func:`_sql_wire`) in front of the stored rest.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import peewee

from one_core.db.base import database
from one_core.rpc.codec import EscapedBytes
from one_core.rpc.codec import escape as rpc_escape
from one_core.vm import xml

if TYPE_CHECKING:
    from one_core.vm.model import VirtualMachine

_HEAD = "<VM><ID>{0}</ID><UID>{1}</UID><USERNAME>"
_BODY = (
    "</USERNAME><NAME>{2}</NAME><LAST_POLL>{3}</LAST_POLL><STATE>{4}</STATE>"
    "<LCM_STATE>{5}</LCM_STATE><STIME>{6}</STIME><ETIME>{7}</ETIME><DEPLOY_ID>{8}</DEPLOY_ID>"
    "<MEMORY>{9}</MEMORY><CPU>{10}</CPU><NET_TX>{11}</NET_TX><NET_RX>{12}</NET_RX>"
)
_HISTORY = (
    "<HISTORY><SEQ>{13}</SEQ><HOSTNAME>{14}</HOSTNAME><HID>{15}</HID><STIME>{16}</STIME>"
    "<ETIME>{17}</ETIME><PSTIME>{18}</PSTIME><PETIME>{19}</PETIME><RSTIME>{20}</RSTIME>"
    "<RETIME>{21}</RETIME><ESTIME>{22}</ESTIME><EETIME>{23}</EETIME><REASON>{24}</REASON>"
    "</HISTORY>"
)
REST_MARK = rpc_escape("</USERNAME>")
"""Where the part of a stored entry that does not depend on the owner's name starts (a
name, escaped, cannot contain it: its ``<`` is ``&amp;lt;`` on the wire)."""

ENTRY_SQL = (
    "SELECT v.oid, v.uid, v.name, v.last_poll, v.state, v.lcm_state, v.stime, v.etime,"
    " v.deploy_id, v.memory, v.cpu, v.net_tx, v.net_rx,"
    " h.seq, h.host_name, h.hid, h.stime, h.etime, h.pstime, h.petime, h.rstime, h.retime,"
    " h.estime, h.eetime, h.reason, u.user_name"
    " FROM vm_pool v LEFT JOIN history h ON h.vid = v.oid AND h.seq = v.last_seq"
    " LEFT JOIN user_pool u ON u.oid = v.uid"
)
"""Each VM's committed values in :func:`entry`'s layout, then its owner's name."""


def _compile(template: str) -> Callable[[list[Any]], str]:
    """``template`` with ``{N}`` placeholders → ``lambda v: f"..."`` (an f-string is several
    times faster than ``str.format``; the template is a constant of this module, tags only)."""
    body = re.sub(r"\{(\d+)\}", r"{v[\1]}", template)
    if "'" in body or "\\" in body:  # a check that -OO keeps (no assert: optimize.py)
        raise ValueError(f"not a plain tag template: {template!r}")
    return eval(f"lambda v: f'{body}'")  # noqa: S307 - constant template, see above


_render_head = _compile(rpc_escape(_HEAD))
_render_rest = _compile(rpc_escape(_BODY + "</VM>"))
_render_rest_history = _compile(rpc_escape(_BODY + _HISTORY + "</VM>"))


def wire(text: Any) -> str:
    """A text value as it is in the listing on the wire: XML-, then XML-RPC-escaped."""
    return rpc_escape(xml.escape(text))


def entry(v: list[Any], owner: str | None) -> str:
    """VM ``v``'s entry, escaped as on the wire; ``owner``: the owner's name (None: no
    such user, an empty ``USERNAME``).

    ``v`` is laid out as :data:`ENTRY_SQL` selects it (text values not escaped;
    ``v[13] is None``: no history record); it is changed in place.
    """
    v[2], v[8] = wire(v[2]), wire(v[8])
    head = _render_head(v) + wire(owner)
    if v[13] is None:
        return head + _render_rest(v)
    v[14] = wire(v[14])
    return head + _render_rest_history(v)


def entry_of(vm: VirtualMachine, owner: str | None) -> str:
    """:func:`entry` of ``vm`` as held in memory (what is being written with it)."""
    v: list[Any] = [
        vm.oid, vm.uid, vm.name, vm.last_poll, int(vm.state), int(vm.lcm_state), vm.stime,
        vm.etime, vm.deploy_id, vm.memory, vm.cpu, vm.net_tx, vm.net_rx,
    ]  # fmt: skip
    h = vm.history
    if h is None:
        v.append(None)
    else:
        v += [
            h.seq, h.host_name, h.hid, h.stime, h.etime, h.pstime, h.petime, h.rstime,
            h.retime, h.estime, h.eetime, int(h.reason),
        ]  # fmt: skip
    return entry(v, owner)


OWNER_TTL = 1.0
"""Seconds :func:`owner_name` answers from memory: a VM write does not query
``user_pool`` each time. A name changed meanwhile costs nothing in correctness: the
listing compares each entry's ``owner_name`` with ``user_pool`` (:func:`_document_sql`)."""

_owners: dict[int, str | None] = {}
_owners_since = 0.0


def owner_name(uid: int) -> str | None:
    """The name of user ``uid`` (None: no such user), as read at most :data:`OWNER_TTL`
    seconds ago."""
    global _owners_since
    now = time.monotonic()
    if now - _owners_since > OWNER_TTL:
        _owners.clear()
        _owners_since = now
    try:
        return _owners[uid]
    except KeyError:
        pass
    row = database.execute_sql(
        f"SELECT user_name FROM user_pool WHERE oid = {database.param}", (uid,)
    ).fetchone()
    name = _owners[uid] = None if row is None else row[0]
    return name


def forget_owners() -> None:
    """Read owners' names again at the next write (a user was created or deleted: the
    entries written from now on show it; the listing shows it at once anyway)."""
    _owners.clear()


def refresh_all() -> int:
    """Render every VM's stored entry again from its committed rows (the migration that
    added the column; a repair tool). Returns the number of VMs."""
    p = database.param
    sql = f"UPDATE vm_pool SET pool_xml = {p}, owner_name = {p} WHERE oid = {p}"
    rows = database.execute_sql(ENTRY_SQL).fetchall()
    for r in rows:
        database.execute_sql(sql, (entry(list(r[:25]), r[25]), r[25], r[0]))
    return len(rows)


def _sql_wire(expr: str) -> str:
    """SQL for :func:`wire` of a text column (``&`` first: the others insert one)."""
    for char, escaped in (("&", "&amp;amp;"), ("<", "&amp;lt;"), (">", "&amp;gt;")):
        expr = f"replace({expr}, '{char}', '{escaped}')"
    return f"replace({expr}, '\r', '&#x0d;')"  # a CR inside the SQL literal


_sql_cache: dict[tuple[bool, bool], str] = {}

ROWS_PER_PART = 1024
"""Entries joined into one part of the answer (≈ 470 KB): the document is never one
buffer, neither in the database nor in oned (docs/decisions.md, "Memory of an oned with
a large pool")."""

FETCH_ROWS = 64
"""Rows fetched at a time. Each entry (≈ 460 bytes) is a small object of Python's own
allocator; fetched a few at a time and appended to the part's buffer (C memory, given
back when the part is sent), they reuse a few of its pools instead of spreading 1,024 at
a time over arenas that a single long-lived object then keeps (+1.1 MiB of oned's RSS
after listings of 10,000 VMs, measured)."""


def _document_sql(postgres: bool, by_owner: bool) -> str:
    """The listing query: the VMs in id order, DONE left out, each stored entry as is or,
    when its owner's name changed since it was rendered, with the head rendered in SQL."""
    sql = _sql_cache.get((postgres, by_owner))
    if sql is None:
        before_id, rest = rpc_escape(_HEAD).split("{0}")
        before_uid, before_name = rest.split("{1}")
        find = "strpos" if postgres else "instr"
        same = "IS NOT DISTINCT FROM" if postgres else "IS"
        value = (
            f"CASE WHEN v.owner_name {same} u.user_name THEN v.pool_xml"
            f" ELSE '{before_id}' || v.oid || '{before_uid}' || v.uid || '{before_name}'"
            f" || COALESCE({_sql_wire('u.user_name')}, '')"
            f" || substr(v.pool_xml, {find}(v.pool_xml, '{REST_MARK}')) END"
        )
        where = f"v.state <> 6{f' AND v.uid = {database.param}' if by_owner else ''}"
        pool = "FROM vm_pool v LEFT JOIN user_pool u ON u.oid = v.uid"
        # as bytes: the driver hands them over without decoding the text
        as_bytes = f"convert_to({value}, 'UTF8')" if postgres else f"CAST({value} AS BLOB)"
        sql = f"SELECT {as_bytes} {pool} WHERE {where} ORDER BY v.oid"
        _sql_cache[(postgres, by_owner)] = sql
    return sql


def document(uid_filter: int | None) -> EscapedBytes:
    """``one.vmpool.info``'s document (``uid_filter``: one owner's VMs), UTF-8, escaped
    for the XML-RPC ``<string>`` it goes into, in parts of :data:`ROWS_PER_PART` entries
    (one statement: one consistent read)."""
    postgres = isinstance(database.obj, peewee.PostgresqlDatabase)
    params = () if uid_filter is None else (uid_filter,)
    cursor = database.execute_sql(_document_sql(postgres, uid_filter is not None), params)
    parts: list[bytes | memoryview] = [b"&lt;VM_POOL&gt;"]
    part, rows_in_part = bytearray(), 0
    while rows := cursor.fetchmany(FETCH_ROWS):
        part += b"".join([row[0] for row in rows])
        rows_in_part += len(rows)
        if rows_in_part >= ROWS_PER_PART:
            parts.append(memoryview(part))
            part, rows_in_part = bytearray(), 0
    if part:
        parts.append(memoryview(part))
    parts.append(b"&lt;/VM_POOL&gt;")
    return EscapedBytes(*parts)


def unescape(text: str) -> str:
    """The inverse of :func:`one_core.rpc.codec.escape` (every ``&`` starts one of its
    four entities, so ``&amp;`` goes last)."""
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&#x0d;", "\r").replace("&amp;", "&")
    )
