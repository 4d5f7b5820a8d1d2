"""one.vm.* and one.vmpool.info against a real oned (dummy drivers), checked against 1.4's wire captures."""

from __future__ import annotations

import hashlib
import re
import time

import pytest

EXAMPLE = """NAME = "vm-example"
CPU    = 0.5
MEMORY = 128
OS = [
  kernel   = "/vmlinuz",
  initrd   = "/initrd.img",
  root     = "sda1" ]
DISK = [
  source   = "/local/xen/domains/etch/disk.img",
  target   = "sda1",
  readonly = "no" ]
DISK = [
  source   = "/local/xen/domains/etch/swap.img",
  target   = "sda2",
  readonly = "no" ]
NIC = [ mac="00:ff:72:17:20:27"]
NIC = [ NETWORK="Private LAN"]
GRAPHICS = [
  type    = "vnc",
  listen  = "127.0.0.1",
  port    = "5"]
CONTEXT = [
  hostname   = "$NAME",
  ip_private = "$NIC[IP, NETWORK=\\"Private LAN\\"]",
  ip_gen     = "10.0.0.$VM_ID"]
"""

PRIVATE_LAN = 'NAME = "Private LAN"\nTYPE = RANGED\nBRIDGE = eth0\nNETWORK_SIZE = C\nNETWORK_ADDRESS = 192.168.0.0\n'

EXPECTED_PENDING = (
    "<VM><ID>0</ID><UID>0</UID><NAME>vm-example</NAME><LAST_POLL>0</LAST_POLL><STATE>1</STATE>"
    "<LCM_STATE>0</LCM_STATE><STIME>{stime}</STIME><ETIME>0</ETIME><DEPLOY_ID></DEPLOY_ID>"
    "<MEMORY>0</MEMORY><CPU>0</CPU><NET_TX>0</NET_TX><NET_RX>0</NET_RX><TEMPLATE><CONTEXT>"
    "<HOSTNAME>vm-example</HOSTNAME><IP_GEN>10.0.0.</IP_GEN><IP_PRIVATE>192.168.0.1</IP_PRIVATE>"
    "</CONTEXT><CPU>0.5</CPU><DISK><READONLY>no</READONLY><SOURCE>/local/xen/domains/etch/disk.img"
    "</SOURCE><TARGET>sda1</TARGET></DISK><DISK><READONLY>no</READONLY><SOURCE>"
    "/local/xen/domains/etch/swap.img</SOURCE><TARGET>sda2</TARGET></DISK><GRAPHICS><LISTEN>"
    "127.0.0.1</LISTEN><PORT>5</PORT><TYPE>vnc</TYPE></GRAPHICS><MEMORY>128</MEMORY><NAME>"
    "vm-example</NAME><NIC><MAC>00:ff:72:17:20:27</MAC></NIC><NIC><BRIDGE>eth0</BRIDGE><IP>"
    "192.168.0.1</IP><MAC>00:03:c0:a8:00:01</MAC><NETWORK>Private LAN</NETWORK><VNID>0</VNID>"
    "</NIC><OS><INITRD>/initrd.img</INITRD><KERNEL>/vmlinuz</KERNEL><ROOT>sda1</ROOT></OS>"
    "<VMID>0</VMID></TEMPLATE></VM>"
)

USER1 = "user1:" + hashlib.sha1(b"pass1").hexdigest()


def wait(oned, vid, state, lcm, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        ok, body = oned.call("one.vm.info", oned.session, vid)
        assert ok
        got = (
            int(re.search(r"<STATE>(\d+)</STATE>", body).group(1)),
            int(re.search(r"<LCM_STATE>(\d+)</LCM_STATE>", body).group(1)),
        )
        if got == (state, lcm):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


@pytest.fixture
def one(oned):
    s = oned.session
    assert oned.call("one.vn.allocate", s, PRIVATE_LAN) == [True, 0]
    assert oned.call("one.host.allocate", s, "host01", "im_dummy", "vmm_dummy", "tm_dummy") == [
        True,
        0,
    ]
    assert oned.call("one.host.allocate", s, "host02", "im_dummy", "vmm_dummy", "tm_dummy") == [
        True,
        1,
    ]
    assert oned.call("one.user.allocate", s, "user1", USER1.split(":")[1])[0] is True
    return oned


def test_allocate_and_info_like_1_4(one):
    s = one.session
    assert one.call("one.vm.allocate", s, EXAMPLE) == [True, 0]
    ok, body = one.call("one.vm.info", s, 0)
    assert ok
    stime = re.search(r"<STIME>(\d+)</STIME>", body).group(1)
    # the MAC prefix comes from the network pool (00:03 in the test oned.conf)
    mac = re.search(r"<MAC>(00:0\d):c0:a8:00:01</MAC>", body).group(1)
    assert body == EXPECTED_PENDING.format(stime=stime).replace("00:03:c0", f"{mac}:c0")
    # A1: no authentication for vm.info
    assert one.call("one.vm.info", "nobody:x", 0)[0] is True
    assert one.call("one.vm.info", s, 99) == [False, "Error getting vm with VID = 99"]


def test_allocate_errors(one):
    s = one.session
    assert one.call("one.vm.allocate", s, "NAME = [") == [False, "Error parsing VM template"]
    assert one.call("one.vm.allocate", s, 'NIC = [ NETWORK = "nope" ]') == [
        False,
        "Error inserting VM in the database, check oned.log",
    ]
    assert one.call("one.vm.allocate", "oneadmin:bad", "NAME=x") == [
        False,
        "User not authenticated, aborting RequestManagerAllocate call.",
    ]
    # the failed inserts did not consume ids
    assert one.call("one.vm.allocate", s, "MEMORY=1") == [True, 0]
    ok, body = one.call("one.vm.info", s, 0)
    assert "<NAME>one-0</NAME>" in body and "<VMID>0</VMID>" in body


def test_pool_filters_and_done_hidden(one):
    s = one.session
    assert one.call("one.vm.allocate", s, "NAME=a") == [True, 0]
    assert one.call("one.vm.allocate", USER1, "NAME=b") == [True, 1]
    ok, body = one.call("one.vmpool.info", s, -2)
    assert ok and body.count("<VM>") == 2
    assert "<UID>1</UID><USERNAME>user1</USERNAME><NAME>b</NAME>" in body
    assert "<TEMPLATE>" not in body
    assert one.call("one.vmpool.info", s, -1)[1].count("<VM>") == 1
    assert one.call("one.vmpool.info", USER1, -1)[1].count("<VM>") == 1
    assert one.call("one.vmpool.info", s, 1)[1].count("<ID>1</ID>") == 1
    assert one.call("one.vmpool.info", s, 7) == [True, "<VM_POOL></VM_POOL>"]
    assert one.call("one.vm.action", s, "finalize", 0) == [True]
    assert one.call("one.vmpool.info", s, -2)[1].count("<VM>") == 1
    assert one.call("one.vmpool.info", "oneadmin:bad", -2) == [
        False,
        "User not authenticated, aborting RequestManagerPoolInfo call.",
    ]


def test_life_cycle_over_rpc(one):
    s = one.session
    assert one.call("one.vm.allocate", s, "NAME=x\nCPU=1\nMEMORY=64\n") == [True, 0]
    assert one.call("one.vm.action", s, "shutdown", 0) == [False, "Wrong state to perform action"]
    assert one.call("one.vm.action", s, "bogus", 0) == [False, "Unknown action"]
    assert one.call("one.vm.action", s, "hold", 9) == [
        False,
        "The virtual machine 9 does not exists",
    ]
    assert one.call("one.vm.deploy", s, 0, 9) == [False, "The host 9 does not exists"]
    assert one.call("one.vm.deploy", s, 9, 0) == [False, "The virtual machine 9 does not exists"]
    assert one.call("one.vm.deploy", USER1, 0, 0) == [
        False,
        "User not authorized to perform the deploy",
    ]
    assert one.call("one.vm.action", USER1, "hold", 0) == [
        False,
        "User not authorized to perform operation upon VirtualMachine [0]",
    ]
    assert one.call("one.vm.deploy", s, 0, 0) == [True]
    body = wait(one, 0, 3, 3)
    assert "<DEPLOY_ID>dummy-0</DEPLOY_ID>" in body
    assert "<HISTORY><SEQ>0</SEQ><HOSTNAME>host01</HOSTNAME><HID>0</HID>" in body
    assert one.call("one.vm.deploy", s, 0, 0) == [False, "Can not deploy VM 0, wrong state"]
    assert one.call("one.vm.migrate", USER1, 0, 1, True) == [
        False,
        "User not authorized to perform migration upon this VM",
    ]
    assert one.call("one.vm.migrate", s, 0, 1, False) == [True]
    wait(one, 0, 3, 3)
    assert one.call("one.vm.migrate", s, 0, 0, True) == [True]
    body = wait(one, 0, 3, 3)
    assert "<SEQ>2</SEQ><HOSTNAME>host01</HOSTNAME>" in body
    assert one.call("one.vm.migrate", s, 0, 1, 1)[0] == "FAULT"  # live must be a boolean
    ok, host = one.call("one.host.info", s, 0)
    assert "<RUNNING_VMS>1</RUNNING_VMS>" in host and "<CPU_USAGE>100</CPU_USAGE>" in host
    assert one.call("one.vm.action", s, "shutdown", 0) == [True]
    wait(one, 0, 6, 0)
    ok, host = one.call("one.host.info", s, 0)
    assert "<RUNNING_VMS>0</RUNNING_VMS>" in host
    assert one.call("one.vm.migrate", s, 0, 1, True) == [False, "Can not migrate VM 0, wrong state"]


def leased(one):
    ok, body = one.call("one.vn.info", one.session, 0)
    assert ok
    return re.findall(
        r"<LEASE><IP>([^<]+)</IP><MAC>[^<]+</MAC><USED>1</USED><VID>(\d+)</VID></LEASE>", body
    )


def test_leases_released_at_done_and_kept_by_failed(one):
    s = one.session
    nic = 'NAME=x\nNIC=[NETWORK="Private LAN"]\n'
    assert one.call("one.vm.allocate", s, nic) == [True, 0]
    assert one.call("one.vm.allocate", s, nic + "DUMMY_FAIL=deploy\n") == [True, 1]
    assert sorted(leased(one)) == [("192.168.0.1", "0"), ("192.168.0.2", "1")]
    assert one.call("one.vm.deploy", s, 0, 0) == [True]
    assert one.call("one.vm.deploy", s, 1, 0) == [True]
    wait(one, 0, 3, 3)
    wait(one, 1, 7, 0)  # FAILED keeps its lease (quirk 8)
    assert one.call("one.vm.action", s, "shutdown", 0) == [True]
    wait(one, 0, 6, 0)
    assert leased(one) == [("192.168.0.2", "1")]
    assert one.call("one.vm.action", s, "finalize", 1) == [True]
    assert leased(one) == []


def test_poll_timer_in_oned(oned_factory):
    one = oned_factory(VM_POLLING_INTERVAL=1, MANAGER_TIMER=1)
    s = one.session
    assert one.call("one.host.allocate", s, "node1", "im_dummy", "vmm_dummy", "tm_dummy") == [
        True,
        0,
    ]
    assert one.call("one.vm.allocate", s, "NAME=x\n") == [True, 0]
    assert one.call("one.vm.deploy", s, 0, 0) == [True]
    wait(one, 0, 3, 3)
    (one.var / "dummy_vmm" / "dummy-0").unlink()  # the domain disappears behind oned's back
    body = wait(one, 0, 3, 16)  # UNKNOWN, found by the VM polling timer
    assert re.search(r"<LAST_POLL>[1-9]\d*</LAST_POLL>", body)
    assert one.call("one.vm.action", s, "restart", 0) == [True]
    wait(one, 0, 3, 3)
