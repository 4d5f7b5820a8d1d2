"""Pool listings of the modern dialect: paging, id ranges, state and owner filters."""

from __future__ import annotations

from typing import Any

import pyone
import pytest

from .helpers import VM_TEMPLATE


@pytest.fixture
def six(one: Any) -> list[int]:
    """Six VMs: 0-3 PENDING, 4 on HOLD, 5 DONE."""
    ids = [one.vm.allocate(VM_TEMPLATE.format(name=f"vm{i}"), i == 4) for i in range(6)]
    one.vm.action("terminate", 5)
    return ids


def _ids(pool: Any) -> list[int]:
    return [vm.ID for vm in pool.VM]


def test_paging_is_offset_and_page_size(one: Any, six: list[int]) -> None:
    assert _ids(one.vmpool.info(-2, 0, -2, -1)) == [0, 1]
    assert _ids(one.vmpool.info(-2, 2, -2, -1)) == [2, 3]
    assert _ids(one.vmpool.info(-2, 4, -2, -1)) == [4]
    assert _ids(one.vmpool.info(-2, 6, -2, -1)) == []
    assert _ids(one.vmpool.infoextended(-2, 1, -3, -2)) == [1, 2, 3]


def test_id_ranges(one: Any, six: list[int]) -> None:
    assert _ids(one.vmpool.info(-2, -1, -1, -1)) == [0, 1, 2, 3, 4]
    assert _ids(one.vmpool.info(-2, 1, 3, -1)) == [1, 2, 3]
    assert _ids(one.vmpool.info(-2, 3, -1, -1)) == [3, 4]
    assert _ids(one.vmpool.info(-2, -1, 1, -1)) == [0, 1]


def test_state_filter(one: Any, six: list[int]) -> None:
    assert _ids(one.vmpool.info(-2, -1, -1, pyone.VM_STATE.HOLD)) == [4]
    assert _ids(one.vmpool.info(-2, -1, -1, pyone.VM_STATE.PENDING)) == [0, 1, 2, 3]
    assert _ids(one.vmpool.info(-2, -1, -1, pyone.VM_STATE.DONE)) == [5]
    assert _ids(one.vmpool.info(-2, -1, -1, -2)) == [0, 1, 2, 3, 4, 5]
    assert _ids(one.vmpool.info(-2, -1, -1)) == [0, 1, 2, 3, 4]  # state left out: not DONE
    assert _ids(one.vmpool.info(-2, 0, -2, pyone.VM_STATE.HOLD)) == [4]  # filter, then page


def test_owner_filters(one: Any, six: list[int]) -> None:
    assert _ids(one.vmpool.info(-3, -1, -1, -1)) == [0, 1, 2, 3, 4]
    assert _ids(one.vmpool.info(0, -1, -1, -1)) == [0, 1, 2, 3, 4]
    assert _ids(one.vmpool.info(7, -1, -1, -1)) == []


def test_bad_filters_are_api_errors(one: Any, six: list[int]) -> None:
    with pytest.raises(pyone.OneApiException, match="Incorrect filter_flag"):
        one.vmpool.info(-9, -1, -1, -1)
    with pytest.raises(pyone.OneApiException, match="Incorrect state"):
        one.vmpool.info(-2, -1, -1, 99)


def test_pool_documents_are_modern_shaped(one: Any, six: list[int]) -> None:
    vm = one.vmpool.infoextended(-2, 0, -1, -1).VM[0]
    assert (vm.UNAME, vm.GNAME, vm.TEMPLATE["NAME"]) == ("oneadmin", "oneadmin", "vm0")
    users = one.userpool.info().USER
    assert [(u.ID, u.NAME, u.ENABLED, u.GNAME, u.AUTH_DRIVER) for u in users] == [
        (0, "oneadmin", 1, "oneadmin", "core")
    ]
    one.host.allocate("h0", "im_dummy", "vmm_dummy", -1)
    one.host.allocate("h1", "im_dummy", "vmm_dummy", 0)
    assert [(h.ID, h.NAME, h.CLUSTER) for h in one.hostpool.info().HOST] == [
        (0, "h0", "default"),
        (1, "h1", "default"),
    ]
    assert one.host.info(1).TEMPLATE["TM_MAD"] == "tm_dummy"
    assert one.host.status(1, 1) == 1
    assert one.host.info(1).STATE == pyone.HOST_STATES.DISABLED
    with pytest.raises(pyone.OneActionException, match="OFFLINE"):
        one.host.status(1, 2)
    assert one.host.delete(1) == 1
    assert [h.ID for h in one.hostpool.info().HOST] == [0]


def test_network_pool_paging_and_1_4_templates(one: Any) -> None:
    ranged = (
        'NAME = "r"\nTYPE = RANGED\nBRIDGE = br1\nNETWORK_ADDRESS = 192.168.5.0\nNETWORK_SIZE = C\n'
    )
    for i in range(3):
        one.vn.allocate(f'NAME = "n{i}"\nAR = [ TYPE = "IP4", IP = "10.{i}.0.1", SIZE = 2 ]', -1)
    rid = one.vn.allocate(ranged, -1)
    assert [n.ID for n in one.vnpool.info(-2, -1, -1).VNET] == [0, 1, 2, rid]
    assert [n.ID for n in one.vnpool.info(-2, 1, -2).VNET] == [1, 2]
    assert [n.ID for n in one.vnpool.info(-2, 2, 3).VNET] == [2, rid]
    ar = one.vn.info(rid).AR_POOL.AR
    assert [(a.IP, a.SIZE, a.TYPE) for a in ar] == [("192.168.5.1", 254, "IP4")]
    assert one.vn.delete(0) == 0
    assert [n.ID for n in one.vnpool.info(-2, -1, -1).VNET] == [1, 2, rid]


def test_documents_bind_without_warnings(one: Any, six: list[int], capfd: Any) -> None:
    one.host.allocate("h0", "im_dummy", "vmm_dummy", -1)
    one.vn.allocate('NAME = "n"\nAR = [ TYPE = "IP4", IP = "10.0.0.1", SIZE = 2 ]', -1)
    one.user.login("oneadmin", "", 60, -1)
    for doc in (
        one.vmpool.info(-2, -1, -1, -2),
        one.vm.info(5),
        one.hostpool.info(),
        one.host.info(0),
        one.vnpool.info(-2, -1, -1),
        one.vn.info(0),
        one.userpool.info(),
        one.user.info(0),
        one.system.config(),
    ):
        assert doc is not None
    assert "Warnings" not in capfd.readouterr().err
