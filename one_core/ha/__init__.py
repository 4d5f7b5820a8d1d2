"""High availability on PostgreSQL: several oned, one leader (docs/ha.md).

Modules, one job each:

* :mod:`.election` — the leader lock: a session advisory lock on a connection
  of its own, and the ``ha_node`` table (heartbeats, who leads since when);
* :mod:`.fence` — the fencing gate the driver executor asks before every
  driver call, and the watchdog that ends a leader whose lock is not confirmed;
* :mod:`.calls` — which XML-RPC calls a follower answers, the refusal text;
* :mod:`.node` — the node's life: follower (reads, tries the lock) → leader.
"""

from __future__ import annotations

from one_core.ha.calls import NOT_LEADER, is_read_call
from one_core.ha.fence import Fence

__all__ = ["NOT_LEADER", "Fence", "is_read_call"]
