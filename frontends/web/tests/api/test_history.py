"""Host monitoring history (``MONITORING_HISTORY``) and ``one.vm.log`` on ``/RPC2/modern``."""

from __future__ import annotations

import time
from collections.abc import Callable
from xml.etree import ElementTree

import pytest

from one_core.client import Client, OneCallError
from one_core.testing.cloud import wait_until
from one_core.testing.oned import DRIVER_SECTIONS_SCHED, ONEADMIN_PASSWORD, OnedProcess


def modern(oned: OnedProcess, user: str = "oneadmin", password: str = ONEADMIN_PASSWORD) -> Client:
    return Client(session=f"{user}:{password}", endpoint=oned.url + "/modern")


def records(client: Client, method: str, *params: object) -> list[dict[str, int]]:
    doc = ElementTree.fromstring(client.call(method, *params))
    assert doc.tag == "MONITORING_DATA"
    return [
        {
            "time": int(m.findtext("TIMESTAMP") or 0),
            "hid": int(m.findtext("ID") or -1),
            **{c.tag: int(c.text or 0) for c in m.find("CAPACITY") or []},
        }
        for m in doc.findall("MONITORING")
    ]


def test_history_is_recorded_and_bounded(oned_factory: Callable[..., OnedProcess]) -> None:
    oned = oned_factory(HOST_MONITORING_INTERVAL=1, MONITORING_HISTORY=3)
    one = modern(oned)
    hid = one.call("one.host.allocate", "node1", "im_dummy", "vmm_dummy", -1)
    other = one.call("one.host.allocate", "node2", "im_dummy", "vmm_dummy", -1)
    wait_until(lambda: len(records(one, "one.host.monitoring", hid)) >= 3, 60)
    time.sleep(4)  # more monitorings than the retention keeps
    mine = records(one, "one.host.monitoring", hid)
    assert {r["hid"] for r in mine} == {hid}
    times = [r["time"] for r in mine]
    assert times == sorted(times)
    assert times[-1] - times[0] <= 3, times  # older rows were deleted
    assert mine[-1]["MAX_CPU"] == 800 and mine[-1]["MAX_MEM"] == 16777216
    assert set(mine[-1]) >= {"CPU_USAGE", "MEM_USAGE", "USED_CPU", "FREE_MEM", "RUNNING_VMS"}

    every = records(one, "one.hostpool.monitoring", -1)
    assert {r["hid"] for r in every} == {hid, other}
    recent = records(one, "one.hostpool.monitoring", 1)
    assert 0 < len(recent) < len(every)

    one.call("one.host.delete", hid)
    assert {r["hid"] for r in records(one, "one.hostpool.monitoring", -1)} == {other}
    with pytest.raises(OneCallError, match=r"\[one.host.monitoring\] Error getting host"):
        one.call("one.host.monitoring", hid)
    one.close()


def test_history_can_be_turned_off(oned_factory: Callable[..., OnedProcess]) -> None:
    oned = oned_factory(HOST_MONITORING_INTERVAL=1, MONITORING_HISTORY=0)
    one = modern(oned)
    hid = one.call("one.host.allocate", "node1", "im_dummy", "vmm_dummy", -1)
    wait_until(lambda: "MONITORED" in _state(one, hid), 60)
    time.sleep(1.5)
    assert records(one, "one.host.monitoring", hid) == []
    one.close()


def _state(one: Client, hid: int) -> str:
    state = ElementTree.fromstring(one.call("one.host.info", hid)).findtext("STATE")
    return "MONITORED" if state == "2" else str(state)


@pytest.mark.one_db("sqlite")
def test_vm_log_is_for_its_owner_and_oneadmin(oned_factory: Callable[..., OnedProcess]) -> None:
    oned = oned_factory(sections=DRIVER_SECTIONS_SCHED, HOST_MONITORING_INTERVAL=1)
    admin = modern(oned)
    admin.call("one.host.allocate", "node1", "im_dummy", "vmm_dummy", -1)
    for user in ("alice", "bob"):
        admin.call("one.user.allocate", user, f"{user}-pw")
    alice, bob = modern(oned, "alice", "alice-pw"), modern(oned, "bob", "bob-pw")
    vid = alice.call("one.vm.allocate", 'NAME = "a"\nCPU = 1\nMEMORY = 64\n')
    wait_until(lambda: "New VM state is RUNNING" in alice.call("one.vm.log", vid), 60)
    assert admin.call("one.vm.log", vid) == alice.call("one.vm.log", vid)
    with pytest.raises(OneCallError, match=r"Not authorized"):
        bob.call("one.vm.log", vid)
    with pytest.raises(OneCallError, match=r"Error getting virtual machine \[99\]"):
        admin.call("one.vm.log", 99)
    for c in (admin, alice, bob):
        c.close()


@pytest.mark.one_db("sqlite")
def test_the_1_4_path_keeps_its_method_list(oned: OnedProcess) -> None:
    names = oned.call("system.listMethods")
    assert not {"one.vm.log", "one.host.monitoring", "one.hostpool.monitoring"} & set(names)
