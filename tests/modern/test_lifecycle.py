"""A VM's life through pyone on the modern dialect: host, network, VM, RUNNING, poweroff,
resume, terminate — against a real oned with the in-daemon scheduler."""

from __future__ import annotations

from typing import Any

import pyone

from one_core.testing.cloud import wait_until
from one_core.testing.oned import OnedProcess

from .helpers import connect

NET = 'NAME = "lan"\nBRIDGE = "br0"\nAR = [ TYPE = "IP4", IP = "10.1.0.10", SIZE = "3" ]\n'
VM = 'NAME = "web"\nCPU = 1\nMEMORY = 64\nNIC = [ NETWORK = "lan" ]\n'


def _state(one: Any, vid: int) -> tuple[int, int]:
    vm = one.vm.info(vid)
    return vm.STATE, vm.LCM_STATE


def _reaches(one: Any, vid: int, state: int, lcm: int = 0) -> None:
    wait_until(lambda: _state(one, vid) == (state, lcm), what=f"VM {vid} in {(state, lcm)}")


def test_host_network_vm_running_poweroff_resume_terminate(sched_oned: OnedProcess) -> None:
    one = connect(sched_oned)
    assert one.system.version() == "7.4.0"
    hid = one.host.allocate("host01", "im_dummy", "vmm_dummy", -1)
    nid = one.vn.allocate(NET, -1)
    vid = one.vm.allocate(VM, False)
    assert (hid, nid, vid) == (0, 0, 0)

    _reaches(one, vid, pyone.VM_STATE.ACTIVE, pyone.LCM_STATE.RUNNING)
    vm = one.vm.info(vid)
    assert (vm.NAME, vm.UID, vm.GID, vm.UNAME, vm.GNAME) == ("web", 0, 0, "oneadmin", "oneadmin")
    assert (vm.PERMISSIONS.OWNER_U, vm.PERMISSIONS.OWNER_M, vm.PERMISSIONS.OTHER_U) == (1, 1, 0)
    nic = vm.TEMPLATE["NIC"]
    assert (nic["IP"], nic["NETWORK"], nic["BRIDGE"]) == ("10.1.0.10", "lan", "br0")
    record = vm.HISTORY_RECORDS.HISTORY[-1]
    assert ("host01", hid, "vmm_dummy") == (record.HOSTNAME, record.HID, record.VM_MAD)

    host = one.host.info(hid)
    assert host.STATE == pyone.HOST_STATES.MONITORED
    assert host.HOST_SHARE.RUNNING_VMS == 1
    assert [i for i in host.VMS.ID] == [vid]
    net = one.vn.info(nid)
    assert net.USED_LEASES == 1
    assert [(ar.IP, ar.SIZE) for ar in net.AR_POOL.AR] == [
        ("10.1.0.10", 1),
        ("10.1.0.11", 1),
        ("10.1.0.12", 1),
    ]

    assert one.vm.action("poweroff", vid) == vid  # 1.4 suspend: the VM stays on its host
    _reaches(one, vid, pyone.VM_STATE.SUSPENDED)
    assert one.vm.action("resume", vid) == vid
    _reaches(one, vid, pyone.VM_STATE.ACTIVE, pyone.LCM_STATE.RUNNING)
    assert one.vm.action("terminate", vid) == vid
    _reaches(one, vid, pyone.VM_STATE.DONE)
    wait_until(lambda: one.vn.info(nid).USED_LEASES == 0, what="the lease to be released")
    assert one.vmpool.info(-2, -1, -1, -1).VM == []
    assert [v.ID for v in one.vmpool.info(-2, -1, -1, pyone.VM_STATE.DONE).VM] == [vid]


def test_undeploy_and_terminate_hard(sched_oned: OnedProcess) -> None:
    one = connect(sched_oned)
    one.host.allocate("host01", "im_dummy", "vmm_dummy", -1)
    vid = one.vm.allocate('NAME = "db"\nCPU = 1\nMEMORY = 64\n', False)
    _reaches(one, vid, pyone.VM_STATE.ACTIVE, pyone.LCM_STATE.RUNNING)
    one.vm.action("undeploy", vid)  # 1.4 stop: back to the front-end
    _reaches(one, vid, pyone.VM_STATE.STOPPED)
    one.vm.action("resume", vid)  # PENDING again, the scheduler places it
    _reaches(one, vid, pyone.VM_STATE.ACTIVE, pyone.LCM_STATE.RUNNING)
    one.vm.action("terminate-hard", vid)
    _reaches(one, vid, pyone.VM_STATE.DONE)


def test_hold_release_and_admin_deploy(oned: OnedProcess) -> None:
    one = connect(oned)
    hid = one.host.allocate("host01", "im_dummy", "vmm_dummy", -1)
    vid = one.vm.allocate('NAME = "held"\nCPU = 1\nMEMORY = 64\n', True)
    assert _state(one, vid) == (pyone.VM_STATE.HOLD, 0)
    one.vm.action("release", vid)
    assert _state(one, vid) == (pyone.VM_STATE.PENDING, 0)
    assert one.vm.deploy(vid, hid, False, -1) == vid
    _reaches(one, vid, pyone.VM_STATE.ACTIVE, pyone.LCM_STATE.RUNNING)
    assert one.vm.rename(vid, "renamed") == vid
    assert one.vm.info(vid).NAME == "renamed"
    assert one.vm.update(vid, 'LABEL = "blue"', 1) == vid
    assert one.vm.info(vid).TEMPLATE["LABEL"] == "blue"
    one.vm.action("terminate", vid)
    _reaches(one, vid, pyone.VM_STATE.DONE)
