"""one.host.* and one.hostpool.info against a real oned (spec xmlrpc-api §5, §9.3-9.4)."""

from __future__ import annotations

import hashlib
import re

ONEADMIN_SESSION = "oneadmin:" + hashlib.sha1(b"onepass").hexdigest()

S = ONEADMIN_SESSION
SHARE0 = (
    "<DISK_USAGE>0</DISK_USAGE><MEM_USAGE>0</MEM_USAGE><CPU_USAGE>0</CPU_USAGE>"
    "<MAX_DISK>0</MAX_DISK><MAX_MEM>0</MAX_MEM><MAX_CPU>0</MAX_CPU><FREE_DISK>0</FREE_DISK>"
    "<FREE_MEM>0</FREE_MEM><FREE_CPU>0</FREE_CPU><USED_DISK>0</USED_DISK><USED_MEM>0</USED_MEM>"
    "<USED_CPU>0</USED_CPU><RUNNING_VMS>0</RUNNING_VMS>"
)


def sha1(s: str) -> str:
    return hashlib.sha1(s.encode()).hexdigest()


def fresh_host(hid: int, name: str, state: int = 0, mon: str = r"\d+") -> str:
    return (
        f"<HOST><ID>{hid}</ID><NAME>{name}</NAME><STATE>{state}</STATE><IM_MAD>im_dummy</IM_MAD>"
        "<VM_MAD>vmm_dummy</VM_MAD><TM_MAD>tm_dummy</TM_MAD>"
        f"<LAST_MON_TIME>{mon}</LAST_MON_TIME><HOST_SHARE><HID>{hid}</HID>{SHARE0}</HOST_SHARE>"
    )


def alloc(oned, name: str) -> int:
    ok, hid = oned.call("one.host.allocate", S, name, "im_dummy", "vmm_dummy", "tm_dummy")
    assert ok is True
    return hid


def test_allocate_ids_and_duplicates(oned):
    assert alloc(oned, "host01") == 0
    assert alloc(oned, "host02") == 1
    assert alloc(oned, "host01") == 2  # S4: duplicate names accepted
    # no validation at all
    assert oned.call("one.host.allocate", S, "", "", "", "") == [True, 3]


def test_allocate_not_admin(oned):
    oned.call("one.user.allocate", S, "user1", sha1("pass1"))
    for session in ("user1:" + sha1("pass1"), "oneadmin:bad", "garbage"):
        assert oned.call("one.host.allocate", session, "h", "a", "b", "c") == [
            False,
            "User not authorized to add new hosts",
        ]
    assert alloc(oned, "h") == 0  # failed calls took no id


def test_info_before_monitoring(oned):
    import time

    before = int(time.time())
    hid = alloc(oned, "host01")
    ok, body = oned.call("one.host.info", S, hid)
    assert ok is True
    assert re.fullmatch(fresh_host(0, "host01") + "<TEMPLATE></TEMPLATE></HOST>", body)
    mon = int(re.search(r"<LAST_MON_TIME>(\d+)<", body).group(1))
    assert before <= mon <= time.time() + 1


def test_info_errors(oned):
    assert oned.call("one.host.info", S, 99) == [False, "Error getting host with HID = 99"]
    assert oned.call("one.host.info", S, -1) == [False, "Error getting host with HID = -1"]
    assert oned.call("one.host.info", "oneadmin:bad", 0) == [
        False,
        "User not authenticated, HostInfo call aborted.",
    ]


def test_any_user_reads_hosts(oned):
    alloc(oned, "host01")
    oned.call("one.user.allocate", S, "user1", sha1("pass1"))
    u1 = "user1:" + sha1("pass1")
    assert oned.call("one.host.info", u1, 0)[0] is True
    assert oned.call("one.hostpool.info", u1)[0] is True


def test_pool_info(oned):
    assert oned.call("one.hostpool.info", S) == [True, "<HOST_POOL></HOST_POOL>"]
    alloc(oned, "host01")
    alloc(oned, "host02")
    ok, body = oned.call("one.hostpool.info", S)
    assert ok
    assert re.fullmatch(
        "<HOST_POOL>"
        + fresh_host(0, "host01")
        + "</HOST>"
        + fresh_host(1, "host02")
        + "</HOST></HOST_POOL>",
        body,
    )
    assert oned.call("one.hostpool.info", "x:y") == [
        False,
        "User not authenticated, RequestManagerHostPoolInfo aborted.",
    ]


def test_enable_disable(oned):
    hid = alloc(oned, "host01")
    assert oned.call("one.host.enable", S, hid, False) == [True]
    assert "<STATE>4</STATE>" in oned.call("one.host.info", S, hid)[1]
    assert oned.call("one.host.enable", S, hid, True) == [True]
    assert "<STATE>0</STATE>" in oned.call("one.host.info", S, hid)[1]
    assert oned.call("one.host.enable", S, 99, True) == [False, "Error getting host with HID = 99"]
    assert oned.call("one.host.enable", "oneadmin:bad", hid, False) == [
        False,
        "Only oneadmin can enable hosts",
    ]
    # enable must be a boolean: an int faults
    assert oned.call("one.host.enable", S, hid, 1) == (
        "FAULT",
        -501,
        "Parameter that is supposed to be boolean is not",
    )


def test_delete(oned):
    alloc(oned, "host01")
    alloc(oned, "host02")
    assert oned.call("one.host.delete", "oneadmin:bad", 0) == [
        False,
        "User not authorized to delete hosts",
    ]
    assert oned.call("one.host.delete", S, 0) == [True]
    assert oned.call("one.host.delete", S, 0) == [False, "Error getting host with HID = 0"]
    assert oned.call("one.host.info", S, 0) == [False, "Error getting host with HID = 0"]
    ok, body = oned.call("one.hostpool.info", S)
    assert "<ID>0</ID>" not in body and "<ID>1</ID>" in body


def test_escaping_of_names(oned):
    hid = alloc(oned, "a<b>&c")
    ok, body = oned.call("one.host.info", S, hid)
    assert "<NAME>a&lt;b&gt;&amp;c</NAME>" in body


def test_state_survives_restart(oned):
    alloc(oned, "host01")
    oned.call("one.host.enable", S, 0, False)
    before = oned.call("one.host.info", S, 0)
    oned.restart()
    assert oned.call("one.host.info", S, 0) == before
    assert alloc(oned, "host02") == 1


def test_client_host_calls(client):
    hid = client.host_allocate("node1", "im_dummy", "vmm_dummy", "tm_dummy")
    doc = client.host_info(hid)
    assert doc.findtext("NAME") == "node1"
    assert doc.findtext("HOST_SHARE/HID") == str(hid)
    client.host_enable(hid, False)
    assert client.hostpool_info().findtext("HOST/STATE") == "4"
    client.host_delete(hid)
    assert client.hostpool_info().findall("HOST") == []


def test_non_ascii_names_roundtrip(oned):
    hid = alloc(oned, "nöde-ü€")
    ok, body = oned.call("one.host.info", S, hid)
    assert "<NAME>nöde-ü€</NAME>" in body
    status, raw, headers = oned.post(
        (
            "<methodCall><methodName>one.host.info</methodName><params>"
            f"<param><value>{S}</value></param><param><value><i4>{hid}</i4></value></param>"
            "</params></methodCall>"
        ).encode()
    )
    assert int(headers["content-length"]) == len(raw)
    assert "nöde-ü€".encode() in raw
