"""VNetPool against a real SQLite file: creation, documents, persistence, deletion (§4.1–§4.8)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from one_core.db.vnet_models import LeaseRow, VNetRow
from one_core.leases import parse_ip
from one_core.pools.vnet import VNetAllocateError, VNetPool

from .conftest import wire_request, wire_response

RANGED_TMPL = wire_request("30_vn_allocate_ranged")[1][1]
FIXED_TMPL = wire_request("31_vn_allocate_fixed")[1][1]
BAD_TYPE_TMPL = wire_request("32_vn_allocate_bad_type")[1][1]
UNTERMINATED_TMPL = wire_request("33_vn_allocate_parse_error")[1][1]
USER1_TMPL = wire_request("39_vn_allocate_as_user1")[1][1]


def lease_rows(oid: int) -> list[tuple]:
    return list(
        LeaseRow.select(LeaseRow.ip, LeaseRow.vid, LeaseRow.used)
        .where(LeaseRow.oid == oid)
        .order_by(LeaseRow.ip)
        .tuples()
    )


# -- documents compared with the 1.4 wire captures ----------------------------------------


def test_ranged_info_matches_wire(pool: VNetPool) -> None:
    assert pool.allocate(0, RANGED_TMPL) == 0
    assert pool.info_xml(0) == wire_response("34_vn_info_ranged")[1]


def test_fixed_info_matches_wire(pool: VNetPool) -> None:
    pool.allocate(0, RANGED_TMPL)
    assert pool.allocate(0, FIXED_TMPL) == 1
    assert pool.info_xml(1) == wire_response("35_vn_info_fixed")[1]


def test_pool_documents_match_wire(pool: VNetPool) -> None:
    assert pool.pool_xml() == wire_response("03_vnpool_info_empty")[1]
    for tmpl in (RANGED_TMPL, FIXED_TMPL, BAD_TYPE_TMPL, UNTERMINATED_TMPL):
        pool.allocate(0, tmpl)
    assert pool.pool_xml() == wire_response("37_vnpool_info_all")[1]
    assert pool.pool_xml(0) == wire_response("38_vnpool_info_mine")[1]
    assert pool.allocate(1, USER1_TMPL) == 4
    assert pool.pool_xml(1) == wire_response("40_vnpool_info_user1_mine")[1]
    assert pool.pool_xml(7) == "<VNET_POOL></VNET_POOL>"


def test_info_with_leases_matches_spec_example(make_pool: Callable[..., VNetPool]) -> None:
    """spec/xmlrpc-api.md §9.5 examples (ranged with one lease; fixed with one of two taken)."""
    pool = make_pool()
    pool.allocate(
        0,
        'NAME = "Small network"\nTYPE = RANGED\nBRIDGE = br0\nNETWORK_SIZE = C\n'
        "NETWORK_ADDRESS = 192.168.0.0\n",
    )
    pool.acquire_nics([{"NETWORK": "Small network"}], vid=0, uid=1)
    assert pool.info_xml(0) == (
        "<VNET><ID>0</ID><UID>0</UID><NAME>Small network</NAME><TYPE>0</TYPE><BRIDGE>br0</BRIDGE>"
        "<TEMPLATE><BRIDGE>br0</BRIDGE><NAME>Small network</NAME>"
        "<NETWORK_ADDRESS>192.168.0.0</NETWORK_ADDRESS><NETWORK_SIZE>C</NETWORK_SIZE>"
        "<TYPE>RANGED</TYPE></TEMPLATE><LEASES><LEASE><IP>192.168.0.1</IP>"
        "<MAC>00:03:c0:a8:00:01</MAC><USED>1</USED><VID>0</VID></LEASE></LEASES></VNET>"
    )
    pool.allocate(
        1,
        'NAME = "Public LAN"\nTYPE = FIXED\nBRIDGE = eth1\n'
        'LEASES = [ IP = "130.10.0.1", MAC = "50:20:20:20:20:20" ]\nLEASES = [ IP = "130.10.0.2" ]\n',
    )
    pool.acquire_nics([{"NETWORK": "Public LAN", "IP": "130.10.0.2"}], vid=3, uid=1)
    assert pool.info_xml(1) == (
        "<VNET><ID>1</ID><UID>1</UID><NAME>Public LAN</NAME><TYPE>1</TYPE><BRIDGE>eth1</BRIDGE>"
        "<TEMPLATE><BRIDGE>eth1</BRIDGE><LEASES><IP>130.10.0.1</IP><MAC>50:20:20:20:20:20</MAC>"
        "</LEASES><LEASES><IP>130.10.0.2</IP></LEASES><NAME>Public LAN</NAME><TYPE>FIXED</TYPE>"
        "</TEMPLATE><LEASES><LEASE><IP>130.10.0.1</IP><MAC>50:20:20:20:20:20</MAC><USED>0</USED>"
        "<VID>-1</VID></LEASE><LEASE><IP>130.10.0.2</IP><MAC>00:03:82:0a:00:02</MAC><USED>1</USED>"
        "<VID>3</VID></LEASE></LEASES></VNET>"
    )
    assert pool.pool_xml() == (
        "<VNET_POOL><VNET><ID>0</ID><UID>0</UID><USERNAME>oneadmin</USERNAME>"
        "<NAME>Small network</NAME><TYPE>0</TYPE><BRIDGE>br0</BRIDGE>"
        "<TOTAL_LEASES>1</TOTAL_LEASES></VNET><VNET><ID>1</ID><UID>1</UID>"
        "<USERNAME>user1</USERNAME><NAME>Public LAN</NAME><TYPE>1</TYPE><BRIDGE>eth1</BRIDGE>"
        "<TOTAL_LEASES>1</TOTAL_LEASES></VNET></VNET_POOL>"
    )


def test_values_are_escaped(pool: VNetPool) -> None:
    """Decision X1: & < > escaped in names, bridges and template values."""
    pool.allocate(0, 'NAME = "a<b&c"\nBRIDGE = "br>0"\n')
    assert "<NAME>a&lt;b&amp;c</NAME><TYPE>1</TYPE><BRIDGE>br&gt;0</BRIDGE>" in pool.info_xml(0)
    assert "<NAME>a&lt;b&amp;c</NAME>" in pool.pool_xml()


def test_unknown_owner_has_empty_username(pool: VNetPool) -> None:
    pool.allocate(9, 'NAME = "orphan"\n')
    assert "<UID>9</UID><USERNAME></USERNAME><NAME>orphan</NAME>" in pool.pool_xml()


def test_default_usernames_come_from_user_table(db_path) -> None:
    from one_core.db.models import UserRow

    UserRow.insert(oid=0, user_name="root", password="x").execute()
    pool = VNetPool("00:03", 254)
    pool.allocate(0, 'NAME = "n"\n')
    assert "<USERNAME>root</USERNAME>" in pool.pool_xml()


# -- creation rules --------------------------------------------------------------------------


@pytest.mark.parametrize("type_value", ["ranged", "Ranged", '"RANGED "', "FIXED", "BOGUS"])
def test_type_other_than_exact_ranged_is_fixed(pool: VNetPool, type_value: str) -> None:
    oid = pool.allocate(0, f"NAME = n\nTYPE = {type_value}\nNETWORK_ADDRESS = 10.0.0.0\n")
    assert pool.get(oid).type == 1
    assert "<TYPE>1</TYPE><BRIDGE></BRIDGE>" in pool.info_xml(oid)


@pytest.mark.parametrize(
    ("size", "expected"),
    [("B", 65534), ("C", 254), ("10", 10), ("100abc", 100), ("c", 77), ("0", 77), ("", 77)],
)
def test_ranged_size(make_pool, size: str, expected: int) -> None:
    pool = make_pool(default_size=77)
    line = f"NETWORK_SIZE = {size}\n" if size else ""
    oid = pool.allocate(0, f"NAME = n\nTYPE = RANGED\nNETWORK_ADDRESS = 10.0.0.0\n{line}")
    assert pool.get(oid).leases.size == expected


@pytest.mark.parametrize("address", [None, '""', "10.0.0", "garbage"])
def test_ranged_without_valid_address_is_rejected(pool: VNetPool, address: str | None) -> None:
    """Decision S6: 1.4 crashed; we reject and leave nothing behind (the id is not consumed)."""
    line = f"NETWORK_ADDRESS = {address}\n" if address is not None else ""
    with pytest.raises(VNetAllocateError):
        pool.allocate(0, f"NAME = n\nTYPE = RANGED\n{line}")
    assert VNetRow.select().count() == 0
    assert pool.allocate(0, "NAME = ok\n") == 0


def test_parse_error_is_rejected(pool: VNetPool) -> None:
    with pytest.raises(VNetAllocateError):
        pool.allocate(0, "NAME = [ A = \n")
    assert len(pool) == 0


def test_fixed_bad_leases_are_skipped_and_logged(
    pool: VNetPool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="one.VNM")
    oid = pool.allocate(
        0,
        'NAME = f\nLEASES = [ IP = "1.2.3" ]\nLEASES = [ IP = "1.2.3.4", MAC = "xx" ]\n'
        'LEASES = "1.2.3.5"\nLEASES = [ IP = "1.2.3.6" ]\n',
    )
    assert [r.getMessage() for r in caplog.records] == [
        "Error inserting lease, IP = 1.2.3",
        "Error inserting lease, MAC = xx",
    ]
    assert lease_rows(oid) == [(parse_ip("1.2.3.6"), -1, 0)]
    assert pool.get(oid).size == 4  # non-vector and bad entries still count


def test_bad_mac_prefix_logs_and_uses_default(
    make_pool: Callable[..., VNetPool], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="one.VNM")
    pool = make_pool(mac_prefix="0003")
    assert "Wrong MAC prefix format, using default" in caplog.messages
    pool.allocate(0, "NAME = f\nLEASES = [ IP = 10.0.0.1 ]\n")
    assert "<MAC>00:01:0a:00:00:01</MAC>" in pool.info_xml(0)


def test_template_mac_prefix_is_ignored(pool: VNetPool) -> None:
    pool.allocate(0, 'NAME = f\nMAC_PREFIX = "aa:bb"\nLEASES = [ IP = 10.0.0.1 ]\n')
    assert "<MAC>00:03:0a:00:00:01</MAC>" in pool.info_xml(0)


def test_duplicate_name_replaces_old_network(pool: VNetPool) -> None:
    """Decision S5: success with a new id; the old network is dropped entirely."""
    pool.allocate(0, FIXED_TMPL)
    pool.acquire_nics([{"NETWORK": "Public LAN"}], vid=1, uid=0)
    assert pool.allocate(0, 'NAME = "Public LAN"\nTYPE = RANGED\nNETWORK_ADDRESS = 10.0.0.0\n') == 1
    assert pool.get(0) is None
    assert pool.info_xml(0) is None
    assert pool.get_by_name("Public LAN").oid == 1
    assert lease_rows(0) == []
    assert [r.oid for r in VNetRow.select()] == [1]
    assert pool.acquire_nics([{"NETWORK": "Public LAN"}], vid=2, uid=0)[0]["IP"] == "10.0.0.1"


def test_empty_name_is_allowed(pool: VNetPool) -> None:
    oid = pool.allocate(0, "BRIDGE = br0\n")
    assert "<NAME></NAME>" in pool.info_xml(oid)


# -- persistence ------------------------------------------------------------------------------


def test_reload_keeps_everything_but_cursors(make_pool: Callable[..., VNetPool]) -> None:
    pool = make_pool()
    pool.allocate(0, RANGED_TMPL)
    pool.allocate(1, FIXED_TMPL)
    pool.acquire_nics([{"NETWORK": "Private LAN"}] * 3, vid=5, uid=0)
    pool.acquire_nics([{"NETWORK": "Public LAN"}] * 2, vid=6, uid=1)
    pool.release_nics([{"VNID": "0", "IP": "192.168.0.1"}], vid=5)
    pool.release_nics([{"VNID": "1", "IP": "130.10.0.1"}], vid=6)
    before = (pool.info_xml(0), pool.info_xml(1), pool.pool_xml())
    assert pool.acquire_nics([{"NETWORK": "Private LAN"}], 7, 0)[0]["IP"] == "192.168.0.4"
    assert pool.acquire_nics([{"NETWORK": "Public LAN"}], 7, 0)[0]["IP"] == "130.10.0.3"
    pool.release_nics([{"VNID": "0", "IP": "192.168.0.4"}, {"VNID": "1", "IP": "130.10.0.3"}])

    again = make_pool()
    assert (again.info_xml(0), again.info_xml(1), again.pool_xml()) == before
    # the cursors start again at the first address
    assert again.acquire_nics([{"NETWORK": "Private LAN"}], 7, 0)[0]["IP"] == "192.168.0.1"
    assert again.acquire_nics([{"NETWORK": "Public LAN"}], 7, 0)[0]["IP"] == "130.10.0.1"
    # ids continue after the highest
    assert again.allocate(0, "NAME = x\n") == 2


def test_ranged_stores_used_leases_only(pool: VNetPool) -> None:
    pool.allocate(0, RANGED_TMPL)
    assert lease_rows(0) == []
    pool.acquire_nics([{"NETWORK": "Private LAN"}], vid=4, uid=0)
    assert lease_rows(0) == [(parse_ip("192.168.0.1"), 4, 1)]
    pool.release_nics([{"VNID": "0", "IP": "192.168.0.1"}], vid=4)
    assert lease_rows(0) == []


def test_fixed_stores_every_lease(pool: VNetPool) -> None:
    pool.allocate(0, FIXED_TMPL)
    assert len(lease_rows(0)) == 6
    pool.acquire_nics([{"NETWORK": "Public LAN", "IP": "130.10.0.5"}], vid=4, uid=0)
    assert (parse_ip("130.10.0.5"), 4, 1) in lease_rows(0)
    pool.release_nics([{"VNID": "0", "IP": "130.10.0.5"}], vid=4)
    assert all(row[1:] == (-1, 0) for row in lease_rows(0))


def test_fixed_networks_sharing_an_ip_are_independent(pool: VNetPool) -> None:
    """Decision: 1.4's UPDATE lacked the oid filter; ours touches one network only."""
    pool.allocate(0, "NAME = a\nLEASES = [ IP = 10.0.0.1 ]\n")
    pool.allocate(0, "NAME = b\nLEASES = [ IP = 10.0.0.1 ]\n")
    pool.acquire_nics([{"NETWORK": "a"}], vid=1, uid=0)
    assert lease_rows(0) == [(parse_ip("10.0.0.1"), 1, 1)]
    assert lease_rows(1) == [(parse_ip("10.0.0.1"), -1, 0)]
    assert "<TOTAL_LEASES>1</TOTAL_LEASES></VNET><VNET><ID>1</ID>" in pool.pool_xml()
    assert pool.pool_xml().endswith("<TOTAL_LEASES>0</TOTAL_LEASES></VNET></VNET_POOL>")


# -- delete ------------------------------------------------------------------------------------


def test_delete_ignores_leases_in_use(pool: VNetPool) -> None:
    pool.allocate(0, FIXED_TMPL)
    nics = pool.acquire_nics([{"NETWORK": "Public LAN"}], vid=1, uid=0)
    assert pool.delete(0) is True
    assert pool.get(0) is None and pool.get_by_name("Public LAN") is None
    assert VNetRow.select().count() == 0 and LeaseRow.select().count() == 0
    assert pool.delete(0) is False
    # releasing a NIC of the deleted network is skipped
    assert pool.release_nics(nics, vid=1) == 0


def test_deleted_highest_id_is_reused_after_restart_only(make_pool) -> None:
    pool = make_pool()
    pool.allocate(0, "NAME = a\n")
    pool.allocate(0, "NAME = b\n")
    pool.delete(1)
    assert pool.allocate(0, "NAME = c\n") == 2
    pool.delete(2)
    assert make_pool().allocate(0, "NAME = d\n") == 1


@pytest.mark.one_db("sqlite")  # locks the SQLite file from a second connection
def test_delete_db_failure_returns_false(pool: VNetPool, db_path) -> None:
    """R2: a failing SQL delete gives False (``[false]``) and keeps the network."""
    import sqlite3

    pool.allocate(0, "NAME = a\n")
    other = sqlite3.connect(str(db_path), timeout=0.05)
    other.execute("BEGIN EXCLUSIVE")
    try:
        from one_core import db

        db.database.execute_sql("PRAGMA busy_timeout = 50")
        assert pool.delete(0) is False
    finally:
        other.rollback()
        other.close()
    assert pool.get(0) is not None
    assert pool.delete(0) is True
