"""oned's start-up in an HA group (oned.conf ``HA``; docs/ha.md).

Modules → oned.conf → lock file → the node's lock connection → the database
(schema and oneadmin created by one node at a time) → the API port opens at once
as a **follower**: reads from the database (a read copy of the user, host and
network pools refreshed every second), writes refused with the leader's name.
When the node takes the leader lock it builds the leader's core exactly as a
single oned does (drivers, engine, **recovery**, monitoring, scheduler), with the
fencing gate on the driver executor, and swaps it into the API.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from one_core.daemon.core import Component, Core

if TYPE_CHECKING:
    from one_core.daemon import Daemon

log = logging.getLogger("one.ONE")


def _database(daemon: Daemon) -> Any:
    """The peewee database, every connection named ``oned-ha:<node>`` in PostgreSQL."""
    from one_core import db
    from one_core.ha.election import APP_PREFIX

    assert daemon.cfg.ha is not None
    dbobj = db.make_database(daemon.cfg.db, var_dir=daemon.cfg.var_dir)
    dbobj.connect_params["application_name"] = APP_PREFIX + daemon.cfg.ha.node
    return dbobj


def _read_core(daemon: Daemon, setups: list[Component], engine_of: Core | None) -> Core:
    """A follower's read copy: users, hosts and networks loaded now; the VM reads go
    to the database through one engine that is never started (no drivers)."""
    from one_core.pools.host import HostPool
    from one_core.pools.user import UserPool
    from one_core.pools.vnet import setup as vnet_setup

    users = UserPool()
    users.hash_passwords = daemon.cfg.strict
    core = Core(users=users, hosts=HostPool(), cfg=daemon.cfg, locations=daemon.locs)
    if engine_of is None:
        core.run_components(setups)
    else:
        vnet_setup(core)
        core.vm, core.engine = engine_of.vm, engine_of.engine
    return core


def start_ha(daemon: Daemon, setups: list[Component]) -> None:
    """Start ``daemon`` as a node of an HA group (a follower until it takes the lock)."""
    from one_core import db
    from one_core.daemon import StartupError
    from one_core.daemon.dblock import describe
    from one_core.ha.election import Elector
    from one_core.ha.fence import Fence
    from one_core.ha.node import HaNode

    cfg = daemon.cfg
    settings = cfg.ha
    assert settings is not None
    dbobj = _database(daemon)
    elector = Elector(dbobj._connect, settings.node, settings.endpoint)
    try:
        elector.open()
        with elector.boot_lock():
            _, fresh = db.connect(dbobj)
            if fresh:
                log.info("Bootstraping OpenNebula database.")
            daemon.make_users()
            elector.register(os.getpid())
    except StartupError:
        raise
    except Exception as exc:  # peewee / psycopg2 / OS errors: one line naming the database
        reason = " ".join(str(exc).split()) or type(exc).__name__
        message = f"Error: Can not open the database {describe(dbobj)} ({reason})"
        log.error("%s", message)
        raise StartupError(message) from None
    log.info(
        "HA: node %s (%s), lease %s s: starting as a follower",
        settings.node,
        settings.endpoint,
        settings.lease,
    )

    reader = _read_core(daemon, setups, None)

    def refresh() -> None:
        if daemon.server is not None and not node.is_leader:
            daemon.server.app.core = _read_core(daemon, setups, reader)

    def take_over() -> None:
        core = daemon.build_core(setups, daemon.make_users())
        if core.engine is not None:
            core.engine.executor.gate = fence.gate
        core.start_services()  # recovery first, as after kill -9; then timers, monitoring
        assert daemon.server is not None
        daemon.server.app.core = core
        daemon.server.app.refuse = None

    fence = Fence(settings.lease)
    node = HaNode(elector, fence, refresh_reader=refresh, take_over=take_over)
    daemon.ha = node
    daemon._start_rpc(reader, refuse=node.refuse)
    node.start()
