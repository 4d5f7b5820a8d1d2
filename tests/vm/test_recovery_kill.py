"""SIGKILL oned with VMs caught mid-transition; the restarted oned brings each to the promised state.

The rules are in docs/recovery.md. Per-VM delays of the dummy drivers
(``$VAR/<vid>/dummy_delay``) and the TM section's ``DELAY_DELETE`` hold the
VMs in their transitional states; the delays are removed before the restart.
"""

from __future__ import annotations

import re
import time

from tests.conftest import DRIVER_SECTIONS

HELD_SECTIONS = """
IM_MAD = [ name = "im_dummy", driver = "dummy" ]
VM_MAD = [ name = "vmm_dummy", driver = "dummy", type = "xml" ]
TM_MAD = [ name = "tm_dummy", driver = "dummy", delay_delete = "60" ]
"""

DISK_VM = 'NAME=v\nCPU=1\nMEMORY=64\nDISK=[SOURCE=/images/a.img]\n'
NODISK_VM = 'NAME=v\nCPU=1\nMEMORY=64\n'


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


def hold(one, vid):
    d = one.var / str(vid)
    d.mkdir(parents=True, exist_ok=True)
    (d / "dummy_delay").write_text("60")


def test_kill9_and_recover(oned_factory):
    one = oned_factory(sections=HELD_SECTIONS)
    s = one.session
    assert one.call("one.host.allocate", s, "node1", "im_dummy", "vmm_dummy", "tm_dummy") == [True, 0]
    vids = {}
    for name, text in [
        ("prolog", DISK_VM),
        ("boot", NODISK_VM),
        ("shutdown", DISK_VM),
        ("save_stop", DISK_VM),
        ("epilog", DISK_VM),
        ("running", DISK_VM),
        ("pending", DISK_VM),
    ]:
        ok, vid = one.call("one.vm.allocate", s, text)
        assert ok
        vids[name] = vid
    for name in ("shutdown", "save_stop", "epilog", "running"):
        assert one.call("one.vm.deploy", s, vids[name], 0) == [True]
        wait(one, vids[name], (3, 3))
    for name in ("prolog", "boot"):
        hold(one, vids[name])
        assert one.call("one.vm.deploy", s, vids[name], 0) == [True]
    hold(one, vids["shutdown"])
    hold(one, vids["save_stop"])
    assert one.call("one.vm.action", s, "shutdown", vids["shutdown"]) == [True]
    assert one.call("one.vm.action", s, "stop", vids["save_stop"]) == [True]
    assert one.call("one.vm.action", s, "shutdown", vids["epilog"]) == [True]
    expected_held = {
        "prolog": (3, 1),
        "boot": (3, 2),
        "shutdown": (3, 12),
        "save_stop": (3, 5),
        "epilog": (3, 11),
        "running": (3, 3),
        "pending": (1, 0),
    }
    for name, pair in expected_held.items():
        wait(one, vids[name], pair)

    one.kill9()
    for vid in vids.values():
        (one.var / str(vid) / "dummy_delay").unlink(missing_ok=True)
    one.conf_path.write_text(one.conf_path.read_text().replace(HELD_SECTIONS, DRIVER_SECTIONS))
    one.start()

    expected_after = {
        "prolog": (3, 3),
        "boot": (3, 3),
        "shutdown": (6, 0),
        "save_stop": (4, 0),
        "epilog": (6, 0),
        "running": (3, 3),
        "pending": (1, 0),
    }
    for name, pair in expected_after.items():
        wait(one, vids[name], pair)
    assert "Recovering VM in state PROLOG after a restart: prolog again" in vm_log(one, vids["prolog"])
    assert "Recovering VM in state BOOT after a restart: boot again" in vm_log(one, vids["boot"])
    assert "Recovering VM in state EPILOG after a restart: epilog again" in vm_log(one, vids["epilog"])
    ok, host = one.call("one.host.info", s, 0)
    # prolog, boot and running hold the host; the others released it
    assert "<RUNNING_VMS>3</RUNNING_VMS>" in host, host
