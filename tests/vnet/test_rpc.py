"""one.vn.* and one.vnpool.info over a real oned and real sockets, against the 1.4 wire captures."""

from __future__ import annotations

import hashlib

import pytest

from .conftest import WIRE

# The 1.4 session of the captures: oneadmin / onepass, user1 / pass1.
ONEADMIN = "oneadmin:" + hashlib.sha1(b"onepass").hexdigest()
USER1 = "user1:" + hashlib.sha1(b"pass1").hexdigest()
BAD = "oneadmin:" + hashlib.sha1(b"wrong").hexdigest()

PRIVATE = (
    'NAME = "Private LAN"\nTYPE = RANGED\nBRIDGE = eth0\nNETWORK_SIZE = 250\n'
    "NETWORK_ADDRESS = 10.0.0.0\n"
)
PUBLIC = (
    'NAME = "Public LAN"\nTYPE = FIXED\nBRIDGE = eth1\n'
    'LEASES = [ IP = "130.10.0.1", MAC = "50:20:20:20:20:20" ]\nLEASES = [ IP = "130.10.0.2" ]\n'
)

REPLAY = [
    "03_vnpool_info_empty",
    "05_user_allocate_ok",
    "30_vn_allocate_ranged",
    "31_vn_allocate_fixed",
    "32_vn_allocate_bad_type",
    "33_vn_allocate_parse_error",
    "34_vn_info_ranged",
    "35_vn_info_fixed",
    "36_vn_info_unknown",
    "37_vnpool_info_all",
    "38_vnpool_info_mine",
    "39_vn_allocate_as_user1",
    "40_vnpool_info_user1_mine",
    "41_vn_delete_ok",
    "42_vn_delete_unknown",
    "88_vn_info_bad_session",
    "89_vnpool_info_bad_session",
    "90_vn_delete_bad_session",
]


def test_replay_wire_captures_byte_for_byte(server) -> None:
    """Each request of the 1.4 session, sent as captured, gets the captured response bytes."""
    assert server.session == ONEADMIN
    for stem in REPLAY:
        request = (WIRE / f"{stem}.request.xml").read_bytes()
        expected = (WIRE / f"{stem}.response.xml").read_bytes()
        status, body, headers = server.post(request)
        assert status == 200, stem
        assert headers["content-type"].startswith("text/xml")
        assert body == expected, stem


def test_allocate_with_wrong_password_is_refused(rpc) -> None:
    """Decision A2 (capture 87 shows 1.4 accepting it): the password is checked."""
    request = (WIRE / "87_vn_allocate_bad_session.request.xml").read_bytes()
    status, body, _ = rpc.post(request)
    assert status == 200
    assert b"<boolean>0</boolean>" in body
    assert b"User not recognized, cannot allocate VirtualNetwork" in body
    assert rpc.call("one.vnpool.info", ONEADMIN, -2) == [True, "<VNET_POOL></VNET_POOL>"]


def test_allocate_session_errors(rpc) -> None:
    tmpl = "NAME = n\n"
    assert rpc.call("one.vn.allocate", "nocolon", tmpl) == [
        False,
        "Session information malformed, cannot allocate VirtualNetwork",
    ]
    assert rpc.call("one.vn.allocate", "ghost:x", tmpl) == [
        False,
        "User not recognized, cannot allocate VirtualNetwork",
    ]


@pytest.mark.parametrize(
    "template",
    [
        "NAME = [ A = \n",  # syntax error
        "NAME = r\nTYPE = RANGED\n",  # RANGED without NETWORK_ADDRESS (1.4 crashed)
    ],
)
def test_allocate_errors_echo_the_template(rpc, template: str) -> None:
    assert rpc.call("one.vn.allocate", ONEADMIN, template) == [
        False,
        "Error allocating VN with template: \n" + template,
    ]
    assert rpc.call("one.vnpool.info", ONEADMIN, -2) == [True, "<VNET_POOL></VNET_POOL>"]


def test_delete_rules(rpc) -> None:
    assert rpc.call("one.user.allocate", ONEADMIN, "user1", hashlib.sha1(b"pass1").hexdigest())[0]
    assert rpc.call("one.user.allocate", ONEADMIN, "user2", "pw2")[0]
    admin_net = rpc.call("one.vn.allocate", ONEADMIN, "NAME = a\n")[1]
    user_net = rpc.call("one.vn.allocate", USER1, "NAME = b\n")[1]
    # not the owner, not oneadmin
    assert rpc.call("one.vn.delete", USER1, admin_net) == [False, "User cannot delete VN"]
    assert rpc.call("one.vn.delete", "user2:pw2", user_net) == [False, "User cannot delete VN"]
    # existence is checked before authentication
    assert rpc.call("one.vn.delete", BAD, 77) == [
        False,
        "Error getting Virtual Network with NID = 77",
    ]
    assert rpc.call("one.vn.delete", USER1, user_net) == [True]
    assert rpc.call("one.vn.delete", ONEADMIN, admin_net) == [True]
    assert rpc.call("one.vn.info", ONEADMIN, admin_net) == [
        False,
        f"Error getting Virtual Network with NID = {admin_net}",
    ]


def test_pool_filters(rpc) -> None:
    rpc.call("one.user.allocate", ONEADMIN, "user1", hashlib.sha1(b"pass1").hexdigest())
    rpc.call("one.vn.allocate", ONEADMIN, "NAME = a\n")
    rpc.call("one.vn.allocate", USER1, "NAME = b\n")

    def ids(session: str, flag: int) -> list[str]:
        ok, body = rpc.call("one.vnpool.info", session, flag)
        assert ok is True
        return [part.split("</ID>")[0] for part in body.split("<VNET><ID>")[1:]]

    assert ids(ONEADMIN, -2) == ["0", "1"]
    assert ids(USER1, -5) == ["0", "1"]  # everybody sees everything (A3)
    assert ids(ONEADMIN, -1) == ["0"]
    assert ids(USER1, -1) == ["1"]
    assert ids(USER1, 0) == ["0"]
    assert ids(ONEADMIN, 1) == ["1"]
    assert ids(ONEADMIN, 5) == []
    assert rpc.call("one.vn.info", USER1, 0)[0] is True


def test_parameter_faults(rpc) -> None:
    assert rpc.call("one.vn.info", ONEADMIN, "0") == (
        "FAULT",
        -501,
        "Parameter that is supposed to be integer is not",
    )
    assert rpc.call("one.vn.allocate", ONEADMIN) == ("FAULT", -501, "Not enough parameters")
    # surplus parameters are ignored
    assert rpc.call("one.vnpool.info", ONEADMIN, -2, "extra") == [True, "<VNET_POOL></VNET_POOL>"]


def test_no_publish_method(rpc) -> None:
    fault = rpc.call("one.vn.publish", ONEADMIN, 0, True)
    assert fault[:2] == ("FAULT", -506)


def test_leases_survive_restart(server) -> None:
    server.call(
        "one.vn.allocate",
        ONEADMIN,
        "NAME = f\nBRIDGE = br0\nLEASES = [ IP = 10.0.0.1 ]\nLEASES = [ IP = 10.0.0.2 ]\n",
    )
    before = server.call("one.vn.info", ONEADMIN, 0)
    server.restart()
    assert server.call("one.vn.info", ONEADMIN, 0) == before
    assert "<MAC>00:03:0a:00:00:02</MAC>" in before[1]
    assert server.call("one.vn.allocate", ONEADMIN, "NAME = g\n") == [True, 1]


def test_vm_nics_get_leases_end_to_end(oned) -> None:
    """one.vm.allocate through the VM pool takes leases; a failing second NIC takes none."""
    s = oned.session
    assert oned.call("one.vn.allocate", s, PRIVATE)[0] is True
    assert oned.call("one.vn.allocate", s, PUBLIC)[0] is True
    ok, vid = oned.call(
        "one.vm.allocate",
        s,
        'NAME = a\nMEMORY = 64\nNIC = [ NETWORK = "Private LAN", MODEL = virtio, TARGET = t0 ]\n'
        'NIC = [ NETWORK = "Public LAN" ]\nNIC = [ BRIDGE = br7 ]\n',
    )
    assert ok is True
    body = oned.call("one.vm.info", s, vid)[1]
    assert (
        "<NIC><BRIDGE>eth0</BRIDGE><IP>10.0.0.1</IP><MAC>00:03:0a:00:00:01</MAC>"
        "<MODEL>virtio</MODEL><NETWORK>Private LAN</NETWORK><VNID>0</VNID></NIC>"
    ) in body
    assert (
        "<NIC><BRIDGE>eth1</BRIDGE><IP>130.10.0.1</IP><MAC>50:20:20:20:20:20</MAC>"
        "<NETWORK>Public LAN</NETWORK><VNID>1</VNID></NIC>"
    ) in body
    assert "<NIC><BRIDGE>br7</BRIDGE></NIC>" in body
    before = [oned.call("one.vn.info", s, n) for n in (0, 1)]
    assert f"<USED>1</USED><VID>{vid}</VID>" in before[1][1]
    # second NIC asks for a used IP: the VM is not created and holds no lease
    assert oned.call(
        "one.vm.allocate",
        s,
        'NAME = b\nMEMORY = 64\nNIC = [ NETWORK = "Private LAN" ]\n'
        'NIC = [ NETWORK = "Public LAN", IP = "130.10.0.1" ]\n',
    ) == [False, "Error inserting VM in the database, check oned.log"]
    assert [oned.call("one.vn.info", s, n) for n in (0, 1)] == before
    # finalize (onevm delete) of the PENDING VM releases its leases
    assert oned.call("one.vm.action", s, "finalize", vid) == [True]
    assert "<LEASES></LEASES>" in oned.call("one.vn.info", s, 0)[1]
    assert "<USED>1</USED>" not in oned.call("one.vn.info", s, 1)[1]
