"""The one write path of hosts, users and virtual networks: the dispatcher.

RPC methods (1.4 and modern dialects) change these pools only through
:class:`PoolWrites` (``core.writes``): each change runs as an event on the
engine's dispatcher — the thread that already writes every VM, applies host
monitoring results and scheduler placements — so every pool has a single
writer (docs/architecture.md §4). The caller waits for the commit and gets the
result or the exception, exactly as from the pool method itself, so the RPC
methods keep their 1.4 error messages. Reads stay on the RPC threads.

Slow work that needs no pool state (hashing a new password, checking a login) is
done on the calling thread before the event, so it never holds the dispatcher;
strict mode's rehash of a 1.4 password at its first login is such an event
(:meth:`PoolWrites.authenticate`).
Before the engine exists (start-up, tools), a change runs in the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from one_core.errors import DatabaseFailure
from one_core.pools.user import hash_secret, is_hashed

if TYPE_CHECKING:
    from one_core.daemon.core import Core
    from one_core.template import Template

T = TypeVar("T")
log = logging.getLogger("one.ReM")


class PoolWrites:
    """Typed facade: one method per change an API call makes to a non-VM pool."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def _write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the dispatcher (one event, committed before it returns)."""
        engine = self._core.engine
        if engine is None:
            return fn(*args)
        return engine.dispatcher.call(fn, *args)

    # -- hosts -----------------------------------------------------------------
    def host_allocate(self, name: str, im_mad: str, vm_mad: str, tm_mad: str) -> int:
        """A new host (INIT); its id."""
        return self._write(self._core.hosts.allocate, name, im_mad, vm_mad, tm_mad)

    def host_delete(self, hid: int) -> None:
        self._write(self._core.hosts.delete, hid)

    def host_enable(self, hid: int, enable: bool) -> None:
        self._write(self._core.hosts.enable, hid, enable)

    # -- users -----------------------------------------------------------------
    def user_allocate(self, name: str, password: str) -> int:
        """A new user; its id. ``ValueError`` for a known name."""
        users = self._core.users
        if users.hash_passwords and not is_hashed(password):
            password = hash_secret(password)  # scrypt here, not on the dispatcher
        return self._write(users.allocate, name, password)

    def user_delete(self, uid: int) -> None:
        self._write(self._core.users.delete, uid)

    def authenticate(self, session: str) -> int:
        """The caller's uid, or −1 (:meth:`UserPool.verify` on the calling thread).

        Strict mode's rehash of a 1.4 password at its first successful login is a
        change like any other: stored on the dispatcher. If the database fails
        meanwhile the login still succeeds; the next login rehashes it.
        """
        users = self._core.users
        uid, rehash = users.verify(session)
        if rehash is not None:
            try:
                self._write(users.store_rehash, uid, *rehash)
            except DatabaseFailure as exc:
                log.warning("Password of user %d not rehashed this time: %s", uid, exc)
        return uid

    # -- virtual networks ----------------------------------------------------------
    def vnet_allocate(self, uid: int, template_text: str) -> int:
        """A new network from its template text; its id (``VNetAllocateError``)."""
        return self._write(self._core.need_vnet().allocate, uid, template_text)

    def vnet_allocate_template(self, uid: int, template: Template) -> int:
        """A new network from a parsed template; its id (``VNetAllocateError``)."""
        return self._write(self._core.need_vnet().allocate_template, uid, template)

    def vnet_delete(self, nid: int) -> bool:
        """Delete a network and its leases; whether it existed and was deleted."""
        return self._write(self._core.need_vnet().delete, nid)
