"""Issue 17 case 3, the disk-full reproduction against a real oned.

oned's ``var`` (SQLite database and its WAL, oned.log, vm.log files, the dummy
domains) is a 2 MiB tmpfs (:mod:`tests.faults.tmpfs`). The test loads oned until
the disk is full — VMs RUNNING, deploys in flight, VMs PENDING for the scheduler,
allocations until one is refused — keeps it full for a few seconds, then grows the
tmpfs to 64 MiB, as an operator would. Afterwards every VM is in a state the API
reports truthfully (the database's), none is left PENDING or mid-transition,
the next action works on every VM (shutdown or finalize to DONE) and the host
counters end at 0.

Nothing in the assertions depends on *when* the disk fills up: which VMs were
deployed before, which deploys failed writing their domain file (FAILED is a
truthful answer), or whether a write found room in the WAL file while the disk
was full. The loop stops at the first refused allocation, which must come
(each VM adds rows and files), and only end states are checked.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.faults.helpers import scheduled_sqlite_sections, vm_state, wait_for
from tests.faults.tmpfs import TmpfsOned

SECTIONS = scheduled_sqlite_sections(delay_deploy=1)
VM = 'NAME = "f"\nCPU = 0.01\nMEMORY = 1\nDESCRIPTION = "' + "x" * 2000 + '"\n'
"""A VM with a 2 KB template: the database grows quickly; 800 fit on the dummy host."""

PENDING, HOLD, ACTIVE, STOPPED, SUSPENDED, DONE, FAILED = 1, 2, 3, 4, 5, 6, 7
RUNNING = 3
MAX_ALLOCATIONS = 600
FULL_SECONDS = 3.0


_READ_STATES = """
import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=10)
print(json.dumps(conn.execute("SELECT oid, state, lcm_state FROM vm_pool").fetchall()))
"""


def _db_states(oned: TmpfsOned) -> dict[int, tuple[int, int]]:
    """``{vid: (state, lcm_state)}`` as committed in oned's database (read in its namespace)."""
    out = oned.run_inside(sys.executable, "-c", _READ_STATES, str(oned.location / "var/one.db"))
    return {oid: (state, lcm) for oid, state, lcm in json.loads(out)}


def _host_counters(oned: TmpfsOned) -> tuple[int, int, int]:
    ok, xml = oned.call("one.host.info", oned.session, 0)[:2]
    assert ok is True, xml
    return tuple(  # type: ignore[return-value]
        int(re.search(f"<{tag}>(-?\\d+)</{tag}>", xml).group(1))  # type: ignore[union-attr]
        for tag in ("RUNNING_VMS", "CPU_USAGE", "MEM_USAGE")
    )


def _refused_for_the_full_disk(answer: Any) -> bool:
    """An allocation refused (``[false, message]``, never a fault) because the disk is
    full: the database failed and the message names the full disk (not the failed
    rollback that followed it) or, should a file write come first, ENOSPC itself."""
    causes = (
        "database error, nothing changed: database or disk is full",
        "No space left on device",
    )
    return answer[0] is False and any(cause in str(answer[1]) for cause in causes)


def test_oned_disk_full_then_grown(tmp_path: Path) -> None:
    oned = TmpfsOned(tmp_path / "one", {"HOST_MONITORING_INTERVAL": 1}, SECTIONS)
    try:
        _disk_full_then_grown(oned)
    finally:
        oned.stop()


def _disk_full_then_grown(oned: TmpfsOned) -> None:
    oned.start()
    used, total = oned.df()
    assert total == 2 * 1024 * 1024 and used < total // 2, (used, total)
    assert oned.call("one.host.allocate", oned.session, "h", "im_dummy", "vmm_dummy", "tm_dummy")[0]

    vids: list[int] = []
    for _ in range(5):  # RUNNING before the disk fills up
        ok, vid = oned.call("one.vm.allocate", oned.session, VM)[:2]
        assert ok is True, vid
        vids.append(vid)
    assert wait_for(lambda: all(vm_state(oned, v) == (ACTIVE, RUNNING) for v in vids), 60)

    refused = None
    for _ in range(MAX_ALLOCATIONS):  # deploys start meanwhile (scheduler, 1 s DELAY_DEPLOY)
        answer = oned.call("one.vm.allocate", oned.session, VM)
        if answer[0] is not True:
            refused = answer
            break
        vids.append(answer[1])
        time.sleep(0.005)
    assert refused is not None, f"the disk never filled up after {len(vids)} VMs: {oned.df()}"
    assert _refused_for_the_full_disk(refused), refused
    used, total = oned.df()
    assert total - used < 64 * 1024, (used, total)  # full, to the last pages
    during = Counter(vm_state(oned, v) for v in vids)  # the API answers while full
    time.sleep(FULL_SECONDS)  # events fail, are rolled back and retried meanwhile

    oned.resize("64m")
    assert oned.df()[1] == 64 * 1024 * 1024

    def settled() -> bool:
        return all(vm_state(oned, v) in ((ACTIVE, RUNNING), (FAILED, 0)) for v in vids)

    assert wait_for(settled, 90), (during, Counter(vm_state(oned, v) for v in vids))
    ok, pool = oned.call("one.vmpool.info", oned.session, -2)[:2]
    assert ok is True
    listed = sorted(int(v) for v in re.findall(r"<VM><ID>(\d+)</ID>", pool))
    assert listed == sorted(vids)  # the refused allocation left nothing behind
    assert wait_for(lambda: _db_states(oned) == {v: vm_state(oned, v) for v in vids}, 10), (
        "the API and the database disagree"
    )
    ends = Counter(vm_state(oned, v) for v in vids)
    assert ends[(ACTIVE, RUNNING)] >= 5, (during, ends)  # at least those RUNNING before
    running = [v for v in vids if vm_state(oned, v) == (ACTIVE, RUNNING)]
    assert _host_counters(oned)[0] == len(running)

    for vid in vids:  # the next action works on every VM
        action = "shutdown" if vid in running else "finalize"
        answer = oned.call("one.vm.action", oned.session, action, vid)
        assert answer[0] is True, (vid, action, answer)
    assert wait_for(lambda: all(vm_state(oned, v)[0] == DONE for v in vids), 90), Counter(
        vm_state(oned, v) for v in vids
    )
    assert wait_for(lambda: _host_counters(oned) == (0, 0, 0), 10), _host_counters(oned)
    assert "Database available again" in oned.log()
    stderr = oned.stderr()  # oned.log's failure told once, not a traceback per line
    assert "Logging error" not in stderr, stderr[-2000:]
    episodes = stderr.count("oned.log: cannot write (OSError: [Errno 28]")
    assert 1 <= episodes == stderr.count("oned.log: written again"), stderr[-2000:]
