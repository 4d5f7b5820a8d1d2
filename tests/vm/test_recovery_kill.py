"""SIGKILL oned with VMs caught mid-transition; the restarted oned brings each to the promised state.

The rules are in docs/recovery.md. Per-VM delays of the dummy drivers
(``$VAR/<vid>/dummy_delay``) and the TM section's ``DELAY_DELETE`` hold the
VMs in their transitional states; the delays are removed before the restart.
It runs on SQLite and on PostgreSQL (tests/vm/conftest.py).
"""

from __future__ import annotations

import re
import time

from one_core.testing.oned import DRIVER_SECTIONS

HELD_SECTIONS = """
IM_MAD = [ name = "im_dummy", driver = "dummy" ]
VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]
TM_MAD = [ name = "tm_dummy", driver = "dummy", delay_delete = "60" ]
SCHED  = [ name = "rank", mode = "external" ]
"""

DISK_VM = "NAME=v\nCPU=1\nMEMORY=64\nDISK=[SOURCE=/images/a.img]\n"
NODISK_VM = "NAME=v\nCPU=1\nMEMORY=64\n"


def states(one, vid):
    ok, body = one.call("one.vm.info", one.session, vid)
    assert ok, body
    return (
        int(re.search(r"<STATE>(\d+)</STATE>", body).group(1)),
        int(re.search(r"<LCM_STATE>(\d+)</LCM_STATE>", body).group(1)),
    )


def wait(one, vid, pair, timeout=30.0):
    deadline = time.monotonic() + timeout
    while states(one, vid) != pair:
        assert time.monotonic() < deadline, (vid, states(one, vid), vm_log(one, vid))
        time.sleep(0.05)


def vm_log(one, vid):
    p = one.var / str(vid) / "vm.log"
    return p.read_text() if p.exists() else ""


def hold(one, vid, action=""):
    """Make every driver action of the VM (or only ``action``) take a minute."""
    d = one.var / str(vid)
    d.mkdir(parents=True, exist_ok=True)
    (d / (f"dummy_delay_{action}" if action else "dummy_delay")).write_text("60")


def unhold(one, vid):
    for path in (one.var / str(vid)).glob("dummy_delay*"):
        path.unlink()


def test_kill9_and_recover(oned_factory):
    # every transitional state is held at once on the same two hosts: let all of
    # them hold a driver thread (the default per-host limit would queue some)
    one = oned_factory(sections=HELD_SECTIONS, DRIVER_THREADS=32, DRIVER_HOST_THREADS=32)
    s = one.session
    assert one.call("one.host.allocate", s, "node1", "im_dummy", "vmm_dummy", "tm_dummy") == [
        True,
        0,
    ]
    assert one.call("one.host.allocate", s, "node2", "im_dummy", "vmm_dummy", "tm_dummy") == [
        True,
        1,
    ]
    names = [
        "prolog", "boot", "shutdown", "save_stop", "epilog", "running", "pending",
        "save_suspend", "save_migrate", "migrate", "cancel", "epilog_stop",
        "prolog_migrate", "prolog_resume",
    ]  # fmt: skip
    vids = {}
    for name in names:
        ok, vid = one.call("one.vm.allocate", s, NODISK_VM if name == "boot" else DISK_VM)
        assert ok
        vids[name] = vid
    act = {
        "shutdown": "shutdown", "save_stop": "stop", "epilog": "shutdown",
        "save_suspend": "suspend", "cancel": "cancel", "epilog_stop": "stop",
    }  # fmt: skip
    # first bring the VMs that need it to RUNNING (prolog_resume: to STOPPED)
    for name in names:
        if name not in ("prolog", "boot", "pending"):
            assert one.call("one.vm.deploy", s, vids[name], 0) == [True]
            wait(one, vids[name], (3, 3))
    assert one.call("one.vm.action", s, "stop", vids["prolog_resume"]) == [True]
    wait(one, vids["prolog_resume"], (4, 0))
    assert one.call("one.vm.action", s, "resume", vids["prolog_resume"]) == [True]
    # then hold each in its transitional state
    for name in ("prolog", "boot"):
        hold(one, vids[name])
        assert one.call("one.vm.deploy", s, vids[name], 0) == [True]
    for name in ("shutdown", "save_stop", "save_suspend", "save_migrate", "migrate", "cancel"):
        hold(one, vids[name])
    for name in ("epilog_stop", "prolog_migrate", "prolog_resume"):
        hold(one, vids[name], "mv")  # the save is quick, the transfer after it is not
    for name, action in act.items():
        assert one.call("one.vm.action", s, action, vids[name]) == [True], name
    assert one.call("one.vm.migrate", s, vids["save_migrate"], 1, False) == [True]
    assert one.call("one.vm.migrate", s, vids["prolog_migrate"], 1, False) == [True]
    assert one.call("one.vm.migrate", s, vids["migrate"], 1, True) == [True]
    assert one.call("one.vm.deploy", s, vids["prolog_resume"], 0) == [True]
    # (state, lcm_state) held in the transitional state -> after kill -9 and restart
    # (docs/recovery.md)
    held_then_after = {
        "prolog": ((3, 1), (3, 3)),
        "boot": ((3, 2), (3, 3)),
        "shutdown": ((3, 12), (6, 0)),
        "save_stop": ((3, 5), (4, 0)),
        "epilog": ((3, 11), (6, 0)),
        "running": ((3, 3), (3, 3)),
        "pending": ((1, 0), (1, 0)),
        "save_suspend": ((3, 6), (5, 0)),
        "save_migrate": ((3, 7), (3, 3)),
        "migrate": ((3, 4), (3, 3)),
        "cancel": ((3, 13), (6, 0)),
        "epilog_stop": ((3, 10), (4, 0)),
        "prolog_migrate": ((3, 8), (3, 3)),
        "prolog_resume": ((3, 9), (3, 3)),
    }
    for name, (held, _after) in held_then_after.items():
        wait(one, vids[name], held)

    one.kill9()
    for vid in vids.values():
        unhold(one, vid)
    one.conf_path.write_text(one.conf_path.read_text().replace(HELD_SECTIONS, DRIVER_SECTIONS))
    one.start()

    for name, (_held, after) in held_then_after.items():
        wait(one, vids[name], after)
    for name, state in [
        ("prolog", "PROLOG"), ("boot", "BOOT"), ("epilog", "EPILOG"), ("shutdown", "SHUTDOWN"),
        ("save_stop", "SAVE_STOP"), ("save_suspend", "SAVE_SUSPEND"),
        ("save_migrate", "SAVE_MIGRATE"), ("migrate", "MIGRATE"), ("cancel", "CANCEL"),
        ("epilog_stop", "EPILOG_STOP"), ("prolog_migrate", "PROLOG_MIGRATE"),
        ("prolog_resume", "PROLOG_RESUME"),
    ]:  # fmt: skip
        assert f"Recovering VM in state {state} after a restart" in vm_log(one, vids[name]), name
    # each migrated VM runs on node2 with a closed record on node1; nothing is lost or doubled
    for name in ("save_migrate", "prolog_migrate", "migrate"):
        ok, body = one.call("one.vm.info", s, vids[name])
        assert body.count("<HISTORY>") == 1 and "<HOSTNAME>node2</HOSTNAME>" in body, body
    for vid in vids.values():  # no VM lost (DONE ones included, which the pool listing hides)
        assert one.call("one.vm.info", s, vid)[0], vid
    ok, pool = one.call("one.vmpool.info", s, -2)
    listed = re.findall(r"<VM><ID>(\d+)</ID>", pool)
    assert (
        len(listed) == len(set(listed)) == sum(1 for _h, a in held_then_after.values() if a[0] != 6)
    )
    # host counters: what runs (or is suspended) on each host holds it, nothing else
    on = {
        0: ["prolog", "boot", "running", "prolog_resume"],
        1: ["save_migrate", "migrate", "prolog_migrate"],
    }
    for hid, running in on.items():
        ok, host = one.call("one.host.info", s, hid)
        assert f"<RUNNING_VMS>{len(running)}</RUNNING_VMS>" in host, (hid, host)
