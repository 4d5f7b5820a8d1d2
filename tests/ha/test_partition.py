"""A leader cut from PostgreSQL (its sessions ended with ``pg_terminate_backend``)
never issues a driver action once another node may: the action log shows every
action of the old leader before the first one of the new leader, and the old
leader ends itself (exit status 75) within the lease."""

from __future__ import annotations

import threading
import time
from typing import Any

from one_core.client import Client, OneClientError
from one_core.ha.fence import EXIT_LOST
from one_core.testing.oned import ONEADMIN_SESSION

LEASE = 3
TEMPLATE = "NAME=p\nCPU=0.1\nMEMORY=16\n"


def load(endpoints: str, hid: int, stop: threading.Event) -> None:
    """Allocate and deploy VMs without pause: driver actions are always in flight."""
    client = Client(session=ONEADMIN_SESSION, endpoint=endpoints, timeout=20, failover_timeout=20)
    while not stop.is_set():
        try:
            vid = client.vm_allocate(TEMPLATE)
            client.vm_deploy(vid, hid)
        except OneClientError:
            time.sleep(0.05)
    client.close()


def test_partition_never_two_leaders(ha_cluster: Any) -> None:
    cluster = ha_cluster(2, delay=0.05)
    admin = Client(session=ONEADMIN_SESSION, endpoint=cluster.endpoints)
    hid = admin.host_allocate("host0", "im_dummy", "vmm_dummy", "tm_dummy")
    stop = threading.Event()
    workers = [
        threading.Thread(target=load, args=(cluster.endpoints, hid, stop), daemon=True)
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    time.sleep(1.5)
    old = cluster.leader()
    assert old.proc is not None
    old_pid = old.proc.pid
    before = len(cluster.actions())
    assert before > 0  # the old leader was issuing actions
    cluster.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
        ("oned-ha:" + cluster.name_of(old),),
    )
    cut = time.time()
    new = cluster.leader(exclude=old)
    assert new.proc is not None
    new_pid = new.proc.pid
    assert old.proc.wait(timeout=10) == EXIT_LOST  # it noticed and ended itself
    time.sleep(5)  # the new leader works for a while
    stop.set()
    for w in workers:
        w.join(30)
    actions = cluster.actions()
    old_times = [a[0] for a in actions if a[1] == old_pid]
    new_times = [a[0] for a in actions if a[1] == new_pid]
    assert old_times and new_times, (len(old_times), len(new_times))
    assert {a[1] for a in actions} == {old_pid, new_pid}
    # the old leader's last action precedes the new leader's first one, with the fence between
    assert max(old_times) < min(new_times), max(old_times) - min(new_times)
    # the fence: no earlier than the old leader's last confirmation (every lease / 6 s) + lease
    assert min(new_times) - cut >= LEASE * 5 / 6, min(new_times) - cut
    assert "Lost the leadership" in old.log(), old.log()[-2000:]
    admin.close()
