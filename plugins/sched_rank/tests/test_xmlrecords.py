"""XML documents (real 1.4 captures) → PendingVM / HostSnapshot."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from one_sched_rank import xmlrecords


def test_pending_vm_ids_from_vmpool(wire: Callable[[str], str]) -> None:
    assert xmlrecords.pending_vm_ids(wire("53_vmpool_info_all")) == [0, 1, 2]
    assert xmlrecords.pending_vm_ids(wire("01_vmpool_info_empty")) == []


def test_enabled_hosts_from_hostpool(wire: Callable[[str], str]) -> None:
    assert xmlrecords.enabled_host_ids(wire("22_hostpool_info_two_hosts")) == [0, 1, 2]
    assert xmlrecords.enabled_host_ids(wire("02_hostpool_info_empty")) == []


def test_disabled_and_error_hosts_are_skipped() -> None:
    doc = (
        "<HOST_POOL>"
        + "".join(
            f"<HOST><ID>{i}</ID><NAME>h{i}</NAME><STATE>{s}</STATE></HOST>"
            for i, s in [(4, 0), (1, 1), (2, 2), (3, 3), (0, 4)]
        )
        + "</HOST_POOL>"
    )
    assert xmlrecords.enabled_host_ids(doc) == [1, 2, 4]


def test_host_snapshot_monitored(wire: Callable[[str], str]) -> None:
    snap = xmlrecords.host_snapshot(wire("20_host_info_monitored"))
    assert (snap.hid, snap.name) == (0, "host01")
    assert (snap.max_cpu, snap.max_mem, snap.free_cpu, snap.free_mem) == (
        800,
        16777216,
        800,
        16777216,
    )
    assert (snap.cpu_usage, snap.mem_usage, snap.disk_usage, snap.running_vms) == (0, 0, 0, 0)
    assert snap.template == {
        "CPUSPEED": "2000",
        "FREECPU": "800",
        "FREEMEMORY": "16777216",
        "HOSTNAME": "host01",
        "HYPERVISOR": "dummy",
        "NETRX": "0",
        "NETTX": "0",
        "TOTALCPU": "800",
        "TOTALMEMORY": "16777216",
        "USEDCPU": "0",
        "USEDMEMORY": "0",
    }


def test_host_snapshot_before_monitoring(wire: Callable[[str], str]) -> None:
    snap = xmlrecords.host_snapshot(wire("19_host_info_before_monitoring"))
    assert snap.template == {}
    assert (snap.max_cpu, snap.free_cpu) == (0, 0)


def test_pending_vm_from_vm_info(wire: Callable[[str], str]) -> None:
    pvm = xmlrecords.pending_vm(wire("48_vm_info_pending"))
    assert (pvm.vid, pvm.uid) == (0, 0)
    assert (pvm.cpu, pvm.memory, pvm.requirements, pvm.rank) == ("0.5", "128", "", "")
    # vector attributes (DISK, NIC, CONTEXT...) are not single attributes
    assert set(pvm.template) == {"CPU", "MEMORY", "NAME", "VMID"}
    assert xmlrecords.vm_state(wire("48_vm_info_pending")) == 1
    assert xmlrecords.vm_state(wire("63_vm_info_running")) == 3


def test_template_first_value_wins_and_vectors_hide_later_singles() -> None:
    doc = (
        "<VM><ID>7</ID><UID>1</UID><TEMPLATE><CPU>1</CPU><CPU>2</CPU>"
        "<RANK><X>1</X></RANK><RANK>FREECPU</RANK><REQUIREMENTS></REQUIREMENTS>"
        "<MEMORY>64</MEMORY></TEMPLATE></VM>"
    )
    pvm = xmlrecords.pending_vm(doc)
    assert pvm.template == {"CPU": "1", "REQUIREMENTS": "", "MEMORY": "64"}
    assert (pvm.rank, pvm.requirements) == ("", "")


def test_escaped_values_round_trip() -> None:
    doc = (
        "<VM><ID>1</ID><UID>0</UID><TEMPLATE>"
        '<REQUIREMENTS>CPU &gt; 50 &amp; HYPERVISOR = "kvm*"</REQUIREMENTS>'
        "</TEMPLATE></VM>"
    )
    assert xmlrecords.pending_vm(doc).requirements == 'CPU > 50 & HYPERVISOR = "kvm*"'


@pytest.mark.parametrize("doc", ["<VM><ID>1</VM>", "<HOST><ID>1</ID></HOST>", "not xml"])
def test_bad_documents(doc: str) -> None:
    with pytest.raises(xmlrecords.RecordError):
        xmlrecords.pending_vm(doc)


def test_entity_expansion_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        "<VM><ID>1</ID><TEMPLATE><CPU>&a;</CPU></TEMPLATE></VM>"
    )
    with pytest.raises(xmlrecords.RecordError):
        xmlrecords.pending_vm(bomb)
