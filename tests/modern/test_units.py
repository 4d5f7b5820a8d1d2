"""The pure parts of the modern dialect: action mapping, address ranges, paging, signatures."""

from __future__ import annotations

import pytest

from one_core.rpc.modern import errors
from one_core.rpc.modern.api import ModernSpec
from one_core.rpc.modern.errors import ApiError
from one_core.rpc.modern.paging import page
from one_core.rpc.modern.vm import engine_action
from one_core.rpc.modern.vn import ranges_to_leases
from one_core.rpc.registry import Fault
from one_core.template import Template
from one_core.vm.states import LcmState, VmState

RUNNING = (VmState.ACTIVE, LcmState.RUNNING)
BOOT = (VmState.ACTIVE, LcmState.BOOT)


@pytest.mark.parametrize(
    ("action", "state", "expected"),
    [
        ("terminate", RUNNING, "shutdown"),
        ("terminate", (VmState.PENDING, 0), "finalize"),
        ("terminate", BOOT, "finalize"),
        ("terminate-hard", RUNNING, "cancel"),
        ("terminate-hard", (VmState.STOPPED, 0), "finalize"),
        ("poweroff", RUNNING, "suspend"),
        ("poweroff-hard", RUNNING, "suspend"),
        ("undeploy", RUNNING, "stop"),
        ("undeploy-hard", RUNNING, "stop"),
        ("resume", (VmState.SUSPENDED, 0), "resume"),
        ("hold", (VmState.PENDING, 0), "hold"),
        ("release", (VmState.HOLD, 0), "release"),
    ],
)
def test_engine_action(action: str, state: tuple[int, int], expected: str) -> None:
    assert engine_action(action, *state) == expected


@pytest.mark.parametrize("action", ["reboot", "reboot-hard", "resched", "delete", "shutdown"])
def test_actions_without_a_1_4_meaning(action: str) -> None:
    with pytest.raises(ApiError) as info:
        engine_action(action, *RUNNING)
    assert info.value.code == errors.ACTION


def test_ranges_become_fixed_leases() -> None:
    t = Template.parse(
        'NAME = n\nAR = [ TYPE = IP4, IP = "10.0.0.254", SIZE = 3, MAC = "02:00:0a:00:00:fe" ]\n'
        'AR = [ TYPE = ip4, IP = "192.168.1.1", SIZE = 1 ]\n'
    )
    ranges_to_leases(t)
    assert t.get("TYPE") == "FIXED"
    assert t.values("AR") == []
    assert t.vectors("LEASES") == [
        {"IP": "10.0.0.254", "MAC": "02:00:0a:00:00:fe"},
        {"IP": "10.0.0.255", "MAC": "02:00:0a:00:00:ff"},
        {"IP": "10.0.1.0", "MAC": "02:00:0a:00:01:00"},
        {"IP": "192.168.1.1"},
    ]


@pytest.mark.parametrize(
    "ar",
    ['TYPE = IP4, IP = "1.2.3", SIZE = 2', "TYPE = IP4, IP = 1.2.3.4, SIZE = x", "TYPE = ETHER"],
)
def test_bad_ranges(ar: str) -> None:
    with pytest.raises(ApiError) as info:
        ranges_to_leases(Template.parse(f"NAME = n\nAR = [ {ar} ]\n"))
    assert info.value.code == errors.ALLOCATE


def test_a_template_without_ranges_is_kept() -> None:
    t = Template.parse("NAME = n\nTYPE = RANGED\nNETWORK_ADDRESS = 10.0.0.0\n")
    assert ranges_to_leases(t).to_text() == t.copy().to_text()
    assert t.get("TYPE") == "RANGED"


def test_page() -> None:
    items = [0, 2, 3, 7, 9]
    assert page(items, int, -1, -1) == items
    assert page(items, int, 2, 7) == [2, 3, 7]
    assert page(items, int, 1, -3) == [2, 3, 7]
    assert page(items, int, -1, -2) == [0, 2]
    assert page(items, int, 4, -10) == [9]


def test_optional_parameters() -> None:
    spec = ModernSpec("one.x", "A:si", "", lambda rq, *a: [True], optional="bi")
    assert spec.check(["s", 1]) == ["s", 1]
    assert spec.check(["s", 1, True]) == ["s", 1, True]
    assert spec.check(["s", 1, True, 5, "surplus"]) == ["s", 1, True, 5]
    with pytest.raises(Fault, match="boolean"):
        spec.check(["s", 1, 5])
    with pytest.raises(Fault, match="Not enough parameters"):
        spec.check(["s"])
