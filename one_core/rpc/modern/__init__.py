"""The modern XML-RPC dialect: today's clients (pyone, the ``one`` CLI) on ``/RPC2/modern``.

``/RPC2`` stays the exact 1.4 wire; the same port serves this second dialect
on :data:`PATH` (docs/modern-api.md)::

    pyone.OneServer("http://localhost:2633/RPC2/modern", session="oneadmin:password")

Modules, one job each: :mod:`.errors` (codes), :mod:`.auth` (sessions),
:mod:`.tokens` (``one.user.login``), :mod:`.api` (the ``@api`` decorator and the
registry), :mod:`.documents` (modern-shaped XML), :mod:`.vm_query` (VM reads in
SQL), :mod:`.paging`, and the methods: :mod:`.system`, :mod:`.user`,
:mod:`.host`, :mod:`.vn`, :mod:`.vm`, :mod:`.monitoring`, :mod:`.unsupported`.
"""

from __future__ import annotations

from one_core.rpc.registry import Registry

PATH = "/RPC2/modern"
"""Where the dialect is served (on oned's XML-RPC port)."""


def load() -> Registry:
    """Register every method of the dialect; returns its registry."""
    from one_core.rpc.modern import (  # noqa: F401
        host,
        monitoring,
        system,
        unsupported,
        user,
        vm,
        vn,
    )
    from one_core.rpc.modern.api import REGISTRY

    return REGISTRY


def routes() -> dict[str, Registry]:
    """``{PATH: registry}`` for :class:`one_core.rpc.app.RpcApp`."""
    return {PATH: load()}
