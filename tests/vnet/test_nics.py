"""The lease API the VM pool uses: acquire_nics / release_nics (§4.6, §4.7)."""

from __future__ import annotations

import logging

import pytest

from one_core.db.vnet_models import LeaseRow
from one_core.leases import LeaseError
from one_core.pools.vnet import VNetPool
from one_core.template import Template

PRIVATE = 'NAME = "Private LAN"\nTYPE = RANGED\nBRIDGE = eth0\nNETWORK_SIZE = 250\nNETWORK_ADDRESS = 10.0.0.0\n'
PUBLIC = (
    'NAME = "Public LAN"\nTYPE = FIXED\nBRIDGE = eth1\n'
    'LEASES = [ IP = "130.10.0.1", MAC = "50:20:20:20:20:20" ]\nLEASES = [ IP = "130.10.0.2" ]\n'
)


@pytest.fixture
def nets(pool: VNetPool) -> VNetPool:
    """0: Private LAN (oneadmin, ranged), 1: Public LAN (oneadmin, fixed), 2: u1 (user 1), 3: u2."""
    pool.allocate(0, PRIVATE)
    pool.allocate(0, PUBLIC)
    pool.allocate(
        1, "NAME = u1\nTYPE = RANGED\nNETWORK_ADDRESS = 10.1.0.0\nNETWORK_SIZE = 10\nBRIDGE = br1\n"
    )
    pool.allocate(2, "NAME = u2\nLEASES = [ IP = 10.2.0.1 ]\n")
    return pool


def snapshot(pool: VNetPool) -> tuple:
    return (
        [pool.info_xml(i) for i in pool.ids()],
        list(LeaseRow.select().order_by(LeaseRow.oid, LeaseRow.ip).tuples()),
    )


def test_nic_rewrite_exact(nets: VNetPool) -> None:
    out = nets.acquire_nics([{"NETWORK": "Private LAN"}], vid=0, uid=0)
    assert out == [
        {
            "BRIDGE": "eth0",
            "IP": "10.0.0.1",
            "MAC": "00:03:0a:00:00:01",
            "NETWORK": "Private LAN",
            "VNID": "0",
        }
    ]
    t = Template()
    t.add("NIC", out[0])
    assert t.to_xml() == (
        "<TEMPLATE><NIC><BRIDGE>eth0</BRIDGE><IP>10.0.0.1</IP><MAC>00:03:0a:00:00:01</MAC>"
        "<NETWORK>Private LAN</NETWORK><VNID>0</VNID></NIC></TEMPLATE>"
    )


def test_other_keys_dropped_model_kept(nets: VNetPool) -> None:
    nic = {
        "NETWORK": "Public LAN",
        "MAC": "aa:aa:aa:aa:aa:aa",
        "TARGET": "vnet0",
        "SCRIPT": "/bin/x",
        "BRIDGE": "mine",
        "VNID": "9",
        "MODEL": "virtio",
    }
    assert nets.acquire_nic(nic, vid=3, uid=0) == {
        "BRIDGE": "eth1",
        "IP": "130.10.0.1",
        "MAC": "50:20:20:20:20:20",
        "MODEL": "virtio",
        "NETWORK": "Public LAN",
        "VNID": "1",
    }


def test_nics_without_network_are_untouched(nets: VNetPool) -> None:
    plain = {"MAC": "00:11:22:33:44:55", "BRIDGE": "br9"}
    empty = {"NETWORK": "", "BRIDGE": "br8"}
    out = nets.acquire_nics([plain, empty, "not a vector"], vid=1, uid=1)
    assert out == [plain, empty, "not a vector"]
    assert LeaseRow.select().where(LeaseRow.used == 1).count() == 0


def test_each_nic_gets_its_own_lease(nets: VNetPool) -> None:
    out = nets.acquire_nics(
        [{"NETWORK": "Private LAN"}, {"NETWORK": "Private LAN"}, {"NETWORK": "Public LAN"}],
        vid=4,
        uid=1,
    )
    assert [n["IP"] for n in out] == ["10.0.0.1", "10.0.0.2", "130.10.0.1"]
    assert "<TOTAL_LEASES>2</TOTAL_LEASES>" in nets.pool_xml()


def test_requested_ip(nets: VNetPool) -> None:
    out = nets.acquire_nics(
        [
            {"NETWORK": "Private LAN", "IP": "10.0.0.77"},
            {"NETWORK": "Public LAN", "IP": "130.10.0.2"},
        ],
        vid=2,
        uid=0,
    )
    assert [(n["IP"], n["MAC"]) for n in out] == [
        ("10.0.0.77", "00:03:0a:00:00:4d"),
        ("130.10.0.2", "00:03:82:0a:00:02"),
    ]
    # an empty IP means an automatic lease
    assert nets.acquire_nic({"NETWORK": "Private LAN", "IP": ""}, 3, 0)["IP"] == "10.0.0.1"


@pytest.mark.parametrize(
    ("uid", "network", "allowed"),
    [
        (1, "u1", True),  # own network
        (1, "Private LAN", True),  # oneadmin's networks are public
        (0, "u1", True),  # oneadmin may use any network
        (0, "u2", True),
        (1, "u2", False),  # someone else's
        (2, "u1", False),
        (3, "u1", False),
    ],
)
def test_ownership(nets: VNetPool, uid: int, network: str, allowed: bool, caplog) -> None:
    caplog.set_level(logging.ERROR)
    if allowed:
        assert nets.acquire_nic({"NETWORK": network}, vid=1, uid=uid)["NETWORK"] == network
    else:
        owner = nets.get_by_name(network).uid
        message = f"Owner {uid} of the VM doesn't have ownership of Virtual Network {owner}"
        with pytest.raises(LeaseError, match=message):
            nets.acquire_nic({"NETWORK": network}, vid=1, uid=uid)
        assert message in caplog.messages
        # no lock is leaked (1.4 hung here): the network is still usable by its owner
        assert nets.acquire_nic({"NETWORK": network}, vid=2, uid=owner)["NETWORK"] == network


@pytest.mark.parametrize(
    "bad_nic",
    [
        {"NETWORK": "nope"},  # unknown name
        {"NETWORK": "private lan"},  # names are case-sensitive
        {"NETWORK": "u2"},  # ownership (uid 1)
        {"NETWORK": "Private LAN", "IP": "10.0.0"},  # malformed
        {"NETWORK": "Private LAN", "IP": "10.0.1.1"},  # outside the network
        {"NETWORK": "Public LAN", "IP": "130.10.0.9"},  # not in the FIXED list
        {"NETWORK": "Public LAN", "IP": "130.10.0.1"},  # already used (by the first NIC)
    ],
)
def test_failure_is_all_or_nothing(nets: VNetPool, bad_nic: dict) -> None:
    """A VM whose second NIC fails gets no lease at all; DB and documents unchanged."""
    before = snapshot(nets)
    with pytest.raises(LeaseError):
        nets.acquire_nics(
            [{"NETWORK": "Public LAN"}, {"NETWORK": "Private LAN"}, bad_nic], vid=7, uid=1
        )
    assert snapshot(nets) == before
    # the leases are really free: a later VM gets them
    out = nets.acquire_nics([{"NETWORK": "Public LAN", "IP": "130.10.0.1"}], vid=8, uid=1)
    assert out[0]["IP"] == "130.10.0.1"


def test_no_free_lease(nets: VNetPool) -> None:
    nets.acquire_nics([{"NETWORK": "Public LAN"}] * 2, vid=1, uid=0)
    with pytest.raises(LeaseError, match="No free leases"):
        nets.acquire_nics([{"NETWORK": "Public LAN"}], vid=2, uid=0)
    with pytest.raises(LeaseError, match="No free leases"):
        nets.acquire_nics([{"NETWORK": "u1"}] * 11, vid=3, uid=1)
    assert "<TOTAL_LEASES>0</TOTAL_LEASES></VNET><VNET><ID>3</ID>" in nets.pool_xml()


def test_release(nets: VNetPool) -> None:
    out = nets.acquire_nics(
        [{"NETWORK": "Private LAN"}, {"NETWORK": "Public LAN"}, {"BRIDGE": "x"}], vid=5, uid=0
    )
    assert nets.release_nics(out, vid=5) == 2
    assert LeaseRow.select().where(LeaseRow.used == 1).count() == 0
    assert nets.release_nics(out, vid=5) == 0  # idempotent


def test_release_needs_vnid_and_ip(nets: VNetPool) -> None:
    (nic,) = nets.acquire_nics([{"NETWORK": "Private LAN"}], vid=5, uid=0)
    assert nets.release_nics([{"VNID": nic["VNID"]}, {"IP": nic["IP"]}], vid=5) == 0
    assert nets.release_nics([{"VNID": "99", "IP": nic["IP"]}], vid=5) == 0
    assert nets.release_nics([{"VNID": nic["VNID"], "IP": "bad"}], vid=5) == 0
    assert nets.release_nics([nic], vid=5) == 1


def test_release_leaves_other_vms_leases(nets: VNetPool) -> None:
    """Decision: a NIC naming someone else's lease (e.g. hand-written VNID/IP) frees nothing."""
    (nic,) = nets.acquire_nics([{"NETWORK": "Private LAN"}], vid=5, uid=0)
    assert nets.release_nics([nic], vid=6) == 0
    assert nets.release_nics([nic]) == 1  # without a vid: 1.4's behaviour


def test_release_inside_caller_transaction_after_rollback(nets: VNetPool) -> None:
    """The contract for the VM pool: its own transaction fails after acquire → release_nics."""
    from one_core import db

    class Boom(Exception):
        pass

    with pytest.raises(Boom), db.writer():
        out = nets.acquire_nics([{"NETWORK": "Private LAN"}, {"NETWORK": "Public LAN"}], 9, 0)
        raise Boom
    assert LeaseRow.select().where(LeaseRow.used == 1).count() == 0  # DB rolled back
    nets.release_nics(out, vid=9)  # frees the in-memory leases
    again = nets.acquire_nics([{"NETWORK": "Public LAN", "IP": "130.10.0.1"}], 10, 0)
    assert again[0]["IP"] == "130.10.0.1"
    assert "<USED>1</USED><VID>10</VID>" in nets.info_xml(1)


@pytest.mark.one_db("sqlite")  # locks the SQLite file from a second connection
def test_db_failure_is_a_lease_error_and_releases(nets: VNetPool, db_path) -> None:
    import sqlite3

    from one_core import db

    before = snapshot(nets)
    other = sqlite3.connect(str(db_path), timeout=0.05)
    other.execute("BEGIN EXCLUSIVE")
    try:
        db.database.execute_sql("PRAGMA busy_timeout = 50")
        with pytest.raises(LeaseError, match="Error storing network lease"):
            nets.acquire_nics([{"NETWORK": "Public LAN"}], vid=1, uid=0)
    finally:
        other.rollback()
        other.close()
    assert snapshot(nets) == before
    # the lease is free again (the cursor moved on, as after any failed VM in 1.4)
    assert (
        nets.acquire_nic({"NETWORK": "Public LAN", "IP": "130.10.0.1"}, 1, 0)["IP"] == "130.10.0.1"
    )


def test_info_document_follows_every_lease_change(nets: VNetPool) -> None:
    """``one.vn.info`` bodies are cached per network; every change must show."""
    empty = nets.info_xml(0)
    assert "<LEASES></LEASES>" in empty
    (nic,) = nets.acquire_nics([{"NETWORK": "Private LAN"}], vid=3, uid=0)
    assert "<LEASE><IP>10.0.0.1</IP>" in nets.info_xml(0)
    with pytest.raises(LeaseError):
        nets.acquire_nics([{"NETWORK": "Private LAN"}, {"NETWORK": "nope"}], vid=4, uid=0)
    assert "<IP>10.0.0.2</IP>" not in nets.info_xml(0)
    nets.release_nics([nic], vid=3)
    assert nets.info_xml(0) == empty
