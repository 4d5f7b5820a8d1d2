"""The engine: one dispatcher thread owns every VM state change (DESIGN.md §3).

* :mod:`.dispatcher` — the event loop (commands, driver results, timers);
* :mod:`.executor` — driver calls on a bounded pool, one at a time per VM;
* :mod:`.dm`, :mod:`.lcm` — 1.4's Dispatch and Life-cycle managers;
* :mod:`.vmm`, :mod:`.tm` — driver actions and the mapping of their results;
* :mod:`.recovery` — start-up reconciliation of VMs caught mid-transition;
* :mod:`.core` — :class:`~one_core.engine.core.Engine`, which ties them together.
"""

from __future__ import annotations

from typing import Any


def setup(core: Any) -> None:
    """oned component hook (see :mod:`one_core.daemon.core`)."""
    from one_core.engine.setup import setup as _setup

    _setup(core)
