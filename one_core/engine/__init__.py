"""The engine: one dispatcher thread owns every VM state change (DESIGN.md §3).

* :mod:`.dispatcher` — the event loop (commands, driver results, timers), one
  transaction per batch of events;
* :mod:`.outbox` — what the events cause outside the database (driver calls, vm.log
  lines, after-commit work), released after their commit; :mod:`.linewriter` — the
  thread writing those vm.log lines; :mod:`.store` — the dispatcher's transactions
  (a SAVEPOINT per event) and the memory forgotten on a rollback;
* :mod:`.executor` — driver calls on a bounded pool, one at a time per VM, their
  deadlines kept by one watchdog thread (:mod:`one_core.deadlines`);
* :mod:`.work` — timers and blocking work of host monitoring, the scheduler and hooks
  on the same dispatcher and executor (no threads of their own);
* :mod:`.transitions` — the VM state machine: one table of every transition (spec §1,
  recovery), rendered into ``docs/state-machine.md`` by :mod:`.statedoc`;
* :mod:`.lcm` — applies the table's rows (the one dispatch of their driver actions);
* :mod:`.dm` — RPC requests → table events (state check, driver capabilities);
* :mod:`.vmm`, :mod:`.tm` — driver actions, and their replies → table events;
* :mod:`.recovery` — start-up reconciliation: the table's ``RECOVER`` rows;
* :mod:`.core` — :class:`~one_core.engine.core.Engine`, which ties them together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from one_core.daemon.core import Core


def setup(core: Core) -> None:
    """oned component hook (see :mod:`one_core.daemon.core`)."""
    from one_core.engine.setup import setup as _setup

    _setup(core)
