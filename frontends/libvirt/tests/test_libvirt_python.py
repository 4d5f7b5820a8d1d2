"""libvirt-python (the real libvirt client library) against one-libvirtd.

``test_seed_c_example`` is the reference guide's C example (§3.1.4) in Python,
against the real oned stack with mm_sched; the others run one-libvirtd in front of a
real oned without a scheduler, so a test places each VM itself (``deploy``) and waits
for the state the dummy drivers reach.
"""

from __future__ import annotations

import pytest

from .conftest import ACTIVE, DONE, HOLD, PASSWORD, PENDING, RUNNING, SUSPENDED, Daemon, Stack  # type: ignore[import-not-found]

libvirt = pytest.importorskip("libvirt")

XML = """<domain type='one'>
  <name>{name}</name>
  <memory>65536</memory>
  <vcpu>2</vcpu>
  <os><type>hvm</type><kernel>/vmlinuz</kernel><root>sda1</root></os>
  <devices>
    <disk type='file' device='disk'><source file='/img/disk.img'/><target dev='sda1'/></disk>
    <interface type='network'><source network='Private LAN'/></interface>
  </devices>
</domain>"""


@pytest.fixture(autouse=True)
def _quiet_libvirt() -> None:
    libvirt.registerErrorHandler(lambda *_: None, None)


def test_seed_c_example(stack: Stack) -> None:
    """open, createLinux, lookupByID, info, lookupByName, shutdown if RUNNING."""
    conn = libvirt.open(stack.uri)
    try:
        dom = conn.createLinux(
            XML.format(name="seed-c").replace(
                "<interface type='network'><source network='Private LAN'/></interface>", ""
            ),
            0,
        )
        vid = dom.ID()
        assert vid >= 0

        # Find the domain of the given id; get information
        dom = conn.lookupByID(vid)
        state, max_mem, memory, nr_virt_cpu, _cpu_time = dom.info()
        assert nr_virt_cpu == 2
        assert max_mem == 65536
        assert state in (libvirt.VIR_DOMAIN_BLOCKED, libvirt.VIR_DOMAIN_RUNNING)

        stack.wait_vm(vid, 3, 3)  # the scheduler placed it and the dummy VMM booted it

        # Check if the current state allows to shutdown the VM
        dom = conn.lookupByName("seed-c")
        info = dom.info()
        assert info[0] == libvirt.VIR_DOMAIN_RUNNING
        assert info[2] == 65536
        if info[0] == libvirt.VIR_DOMAIN_RUNNING:
            dom.shutdown()
        stack.wait_vm(vid, 6)
    finally:
        conn.close()


def test_connection_calls(libvirtd: Daemon) -> None:
    libvirtd.wait_host_monitored()
    conn = libvirt.open(libvirtd.uri)
    assert conn.getType() == "ONE"
    assert conn.getVersion() == 1_004_000
    assert conn.getLibVersion() == 9_000_000
    assert conn.getHostname()
    assert conn.isSecure() == 0
    assert conn.getInfo()[:3] == ["OpenNebula", 1024, 4]  # 1 GiB and 400 % CPU: host01 as monitored
    conn.close()
    local = libvirt.open(f"one+unix:///?socket={libvirtd.unix}")
    assert local.isSecure() == 1
    local.close()


def test_domain_life_cycle_and_states(libvirtd: Daemon) -> None:
    conn = libvirt.open(libvirtd.uri)
    dom = conn.createXML(XML.format(name="py1"), 0)
    assert (dom.ID(), dom.name()) == (0, "py1")
    template = libvirtd.template(0)
    assert template.findtext("MEMORY") == "64"
    assert [nic.findtext("NETWORK") for nic in template.findall("NIC")] == ["Private LAN"]
    assert template.findtext("NIC/IP") == "10.0.0.1"  # oned leased an address
    assert libvirtd.vm(0) == (PENDING, 0)
    assert dom.state() == [libvirt.VIR_DOMAIN_BLOCKED, 0]  # PENDING: waiting for a host
    assert dom.isActive() == 1 and dom.isPersistent() == 0

    libvirtd.deploy(0)
    assert dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED]
    assert dom.info() == [libvirt.VIR_DOMAIN_RUNNING, 65536, 65536, 2, 0]
    assert dom.maxVcpus() == 2 and dom.maxMemory() == 65536
    assert dom.OSType() == "hvm" and dom.autostart() == 0
    infos, maps = dom.vcpus()
    assert [i[0] for i in infos] == [0, 1] and len(maps) == 2

    dom.suspend()
    libvirtd.wait_vm(0, SUSPENDED)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
    dom.resume()
    libvirtd.wait_vm(0, ACTIVE, RUNNING)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    dom.destroy()  # cancel
    libvirtd.wait_vm(0, DONE)
    with pytest.raises(libvirt.libvirtError) as err:
        conn.lookupByID(0)
    assert err.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    conn.close()


def test_define_start_undefine(libvirtd: Daemon) -> None:
    conn = libvirt.open(libvirtd.uri)
    dom = conn.defineXML(XML.format(name="py2"))
    assert dom.ID() == -1
    assert libvirtd.vm(0) == (HOLD, 0)
    assert conn.listDefinedDomains() == ["py2"] and conn.numOfDefinedDomains() == 1
    assert conn.listDomainsID() == [] and conn.numOfDomains() == 0
    assert dom.isPersistent() == 1 and dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
    with pytest.raises(libvirt.libvirtError) as err:
        dom.shutdown()
    assert err.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID

    dom.create()  # start = release
    assert libvirtd.vm(0) == (PENDING, 0)
    assert conn.listDomainsID() == [0]
    assert conn.lookupByName("py2").ID() == 0
    with pytest.raises(libvirt.libvirtError) as err:
        dom.undefine()
    assert "cannot undefine an active domain" in str(err.value)

    other = conn.defineXML(XML.format(name="py3"))
    assert [d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)] == [
        "py3"
    ]
    assert [d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)] == [
        "py2"
    ]
    assert len(conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING)) == 0
    assert conn.lookupByUUID(other.UUID()).name() == "py3"
    assert conn.lookupByUUIDString(other.UUIDString()).name() == "py3"
    other.undefine()  # finalize
    assert libvirtd.vm(1)[0] == DONE
    assert conn.listDefinedDomains() == []
    conn.close()


def test_errors_reach_the_application(libvirtd: Daemon) -> None:
    conn = libvirt.open(libvirtd.uri)
    with pytest.raises(libvirt.libvirtError) as err:
        conn.createXML("<domain><name>x</name><memoryBacking/></domain>", 0)
    assert err.value.get_error_code() == libvirt.VIR_ERR_CONFIG_UNSUPPORTED
    assert "<memoryBacking>" in str(err.value)
    with pytest.raises(libvirt.libvirtError) as err:
        conn.createXML("<domain><name>x</name>", 0)
    assert err.value.get_error_code() == libvirt.VIR_ERR_XML_ERROR
    with pytest.raises(libvirt.libvirtError) as err:
        conn.lookupByName("nope")
    assert err.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    with pytest.raises(libvirt.libvirtError) as err:
        conn.lookupByUUIDString("12345678-1234-1234-1234-123456789012")
    assert err.value.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    dup = conn.createXML(XML.format(name="dup"), 0)
    with pytest.raises(libvirt.libvirtError) as err:
        conn.defineXML(XML.format(name="dup").replace("65536", "131072"))  # active: no change
    assert err.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    assert "cannot change the template of a VM that has been started" in str(err.value)
    assert conn.defineXML(XML.format(name="dup")).UUID() == dup.UUID()  # no change: accepted
    other = conn.defineXML(XML.format(name="other"))
    with pytest.raises(libvirt.libvirtError) as err:  # other's UUID, dup's name
        conn.defineXML(
            XML.format(name="dup").replace("<name>", f"<uuid>{other.UUIDString()}</uuid><name>")
        )
    assert err.value.get_error_code() == libvirt.VIR_ERR_DOM_EXIST
    assert conn.numOfDomains() == 1  # still serving
    assert libvirtd.vm(1)[0] == HOLD  # "other" (VM 1) kept its definition
    conn.close()


def _auth(user: str, password: str) -> list:  # type: ignore[type-arg]
    def callback(creds, _data):  # type: ignore[no-untyped-def]
        for cred in creds:
            if cred[0] == libvirt.VIR_CRED_AUTHNAME:
                cred[4] = user
            elif cred[0] == libvirt.VIR_CRED_PASSPHRASE:
                cred[4] = password
        return 0

    return [[libvirt.VIR_CRED_AUTHNAME, libvirt.VIR_CRED_PASSPHRASE], callback, None]


def test_sasl_plain_login_on_the_unix_socket(libvirtd_sasl: Daemon) -> None:
    uri = f"one+unix:///?socket={libvirtd_sasl.unix}"
    conn = libvirt.openAuth(uri, _auth("oneadmin", PASSWORD), 0)
    conn.createXML(XML.format(name="sasl1"), 0)
    assert conn.listDomainsID() == [0]
    conn.close()
    with pytest.raises(libvirt.libvirtError) as err:
        libvirt.openAuth(uri, _auth("oneadmin", "wrong"), 0)
    assert err.value.get_error_code() == libvirt.VIR_ERR_AUTH_FAILED
    # TCP connections keep acting as the daemon's user, without SASL
    tcp = libvirt.open(libvirtd_sasl.uri)
    assert tcp.numOfDomains() == 1
    tcp.close()


def test_unimplemented_calls_name_the_api(libvirtd: Daemon) -> None:
    """VIR_ERR_NO_SUPPORT with the API name, as libvirt's own drivers report it."""
    conn = libvirt.open(libvirtd.uri)
    dom = conn.defineXML(XML.format(name="noreboot"))
    with pytest.raises(libvirt.libvirtError) as err:
        dom.reboot(0)
    assert err.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT
    assert str(err.value) == (
        "this function is not supported by the connection driver: virDomainReboot"
    )
    with pytest.raises(libvirt.libvirtError) as err:
        conn.listAllInterfaces()
    assert err.value.get_error_code() == libvirt.VIR_ERR_NO_SUPPORT
    assert "virConnectListAllInterfaces" in str(err.value)
    with pytest.raises(libvirt.libvirtError) as err:
        dom.managedSave(0)
    assert "virDomainManagedSave" in str(err.value)
    dom.setMemory(1024 * 1024)  # a defined domain changes: it is redefined
    assert libvirtd.template(1).findtext("MEMORY") == "1024" and libvirtd.vm(0)[0] == DONE
    conn.close()


def test_node_memory_and_networks(libvirtd: Daemon) -> None:
    libvirtd.wait_host_monitored()
    conn = libvirt.open(libvirtd.uri)
    assert conn.getFreeMemory() == 1048576 * 1024  # host01's FREEMEMORY (KiB), in bytes
    assert conn.getCellsFreeMemory(0, 1) == [1048576 * 1024]
    assert conn.getMemoryStats(-1) == {"total": 1048576, "free": 1048576}
    assert conn.getCPUStats(-1) == {"utilization": 0}
    assert [n.name() for n in conn.listAllNetworks()] == ["Private LAN"]
    assert conn.listNetworks() == ["Private LAN"] and conn.listDefinedNetworks() == []
    net = conn.networkLookupByName("Private LAN")
    assert net.bridgeName() == "br0" and net.isActive() == 1 and net.autostart() == 1
    assert conn.networkLookupByUUID(net.UUID()).name() == "Private LAN"
    assert '<ip address="10.0.0.1" prefix="24">' in net.XMLDesc(0)
    with pytest.raises(libvirt.libvirtError) as err:
        conn.networkLookupByName("nope")
    assert err.value.get_error_code() == libvirt.VIR_ERR_NO_NETWORK
    conn.close()


def test_domain_stats_and_addresses(libvirtd: Daemon) -> None:
    conn = libvirt.open(libvirtd.uri)
    dom = conn.createXML(XML.format(name="stats"), 0)
    libvirtd.deploy(dom.ID())
    [(got, stats)] = conn.getAllDomainStats()
    assert got.name() == "stats"
    assert stats["state.state"] == libvirt.VIR_DOMAIN_RUNNING
    assert stats["balloon.maximum"] == 65536 and stats["vcpu.maximum"] == 2
    assert stats["net.count"] == 1 and stats["block.0.path"] == "/img/disk.img"
    [(_, only_state)] = conn.domainListGetStats([dom], libvirt.VIR_DOMAIN_STATS_STATE)
    assert set(only_state) == {"state.state", "state.reason"}
    addresses = dom.interfaceAddresses(libvirt.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE)
    [(name, iface)] = addresses.items()
    assert iface["addrs"] == [
        {"type": libvirt.VIR_IP_ADDR_TYPE_IPV4, "addr": "10.0.0.1", "prefix": 24}
    ]
    assert iface["hwaddr"] == libvirtd.template(dom.ID()).findtext("NIC/MAC")
    with pytest.raises(libvirt.libvirtError) as err:
        dom.setMemory(32768)
    assert err.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
    conn.close()


def test_failed_domain_cannot_start(libvirtd: Daemon) -> None:
    """A VM whose prolog failed is FAILED in 1.4: start/resume say so; undefine removes it."""
    failed = 7  # VM STATE FAILED
    conn = libvirt.open(libvirtd.uri)
    dom = conn.createXML(XML.format(name="doomed"), 0)
    vid = dom.ID()
    vm_dir = libvirtd.oned.var / str(vid)
    vm_dir.mkdir(parents=True, exist_ok=True)
    (vm_dir / "dummy_fail").write_text("clone,ln\n")  # the dummy TM fails the prolog
    libvirtd.client.vm_deploy(vid, libvirtd.host_id)
    libvirtd.wait_vm(vid, failed)
    assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_FAILED]
    for call in (dom.create, dom.resume):
        with pytest.raises(libvirt.libvirtError) as err:
            call()
        assert err.value.get_error_code() == libvirt.VIR_ERR_OPERATION_INVALID
        assert "is FAILED in OpenNebula and cannot run again" in str(err.value)
    assert libvirtd.vm(vid)[0] == failed
    dom.undefine()
    assert libvirtd.vm(vid)[0] == DONE
    conn.close()
