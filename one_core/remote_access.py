"""oned's one SSH pool behind ``ctx.remote(host)``, made on first use.

The core runs no command on a host itself and does not depend on an SSH
library: the pool comes from the distribution registered under the entry
point group :data:`GROUP` (``one-driverkit`` registers
``one_driverkit.remote:RemotePool``), imported the first time a driver calls
``ctx.remote(host)``. An oned whose drivers never do (the dummy drivers)
imports no SSH code at all.

:class:`SharedRemote` is made once per :class:`~one_core.drivers.DriverSet`;
:meth:`SharedRemote.factory` gives each driver its ``remote_factory``, which
applies that driver's oned.conf ``SSH_USER``/``SSH_PORT``/``SSH_KEY``/``SSH_TIMEOUT``
(``RemotePool.for_section``) while sharing the connections.
"""

from __future__ import annotations

import importlib.metadata
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from one_core.errors import DriverError

GROUP = "one.remote"
"""Entry-point group of the remote-execution pool (a class ``RemotePool``)."""


class RemotePoolLike(Protocol):
    """What the core needs of the kit's pool."""

    def for_section(self, config: Mapping[str, Any]) -> Callable[[str], Any]: ...

    def close(self) -> None: ...


def _pool_class() -> Callable[[], RemotePoolLike]:
    found = sorted(importlib.metadata.entry_points(group=GROUP), key=lambda ep: ep.name)
    if not found:
        raise DriverError(
            "ctx.remote(host) needs a remote-execution pool and none is installed "
            f"(entry point group {GROUP!r}): install one-driverkit"
        )
    loaded: Callable[[], RemotePoolLike] = found[0].load()
    return loaded


class SharedRemote:
    """The one pool of an oned, created on the first ``ctx.remote(host)``."""

    def __init__(self, make_pool: Callable[[], RemotePoolLike] | None = None):
        self._make_pool = make_pool
        self._pool: RemotePoolLike | None = None
        self._lock = threading.Lock()

    def _root(self) -> RemotePoolLike:
        with self._lock:
            if self._pool is None:
                self._pool = (self._make_pool or _pool_class())()
            return self._pool

    def factory(self, section: Mapping[str, Any]) -> Callable[[str], Any]:
        """A driver's ``remote_factory``: ``host`` → pooled handle, with ``section``'s SSH keys."""
        view: list[Callable[[str], Any]] = []

        def remote(host: str) -> Any:
            if not view:
                made = self._root().for_section(section)
                with self._lock:
                    if not view:
                        view.append(made)
            return view[0](host)

        return remote

    @property
    def started(self) -> bool:
        """Whether a driver used the pool (and so imported the SSH library)."""
        return self._pool is not None

    def close(self) -> None:
        """Close every connection of the pool, if it was ever made."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
