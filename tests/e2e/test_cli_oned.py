"""The four CLIs as subprocesses against a real oned with the dummy drivers (issue 7).

A host, a network and VMs are made purely through the tools, then taken through
deploy, stop, resume (+ deploy again: STOPPED → PENDING in 1.4), suspend/resume,
shutdown and delete, with ``onevm list`` and ``onevm history`` compared with the
1.4 layouts (spec §6.5) after each step. The VM state is awaited through the
RPC client (cheap), the tools are then run once per check. The time columns,
which depend on the clock, are matched by pattern; TZ is UTC.
"""

from __future__ import annotations

import re
import socket
from xml.etree import ElementTree

from .cli_runner import (
    DONE,
    HEADER_HISTORY,
    HEADER_VM,
    PENDING,
    RUNNING,
    STOPPED,
    SUSPENDED,
    TIME,
    history,
    vm_row,
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_list(out: str, *rows: str) -> None:
    assert re.fullmatch(re.escape(HEADER_VM) + "".join(r + "\n" for r in rows), out), out


def assert_history(out: str, *blocks: str) -> None:
    assert re.fullmatch("".join(blocks), out), out


def test_lifecycle_purely_through_the_clis(cli) -> None:
    assert cli("onehost", "create", "host01", "im_dummy", "vmm_dummy", "tm_dummy", "-v") == (
        0, "ID: 0\n")  # fmt: skip
    (cli.dir / "lan.net").write_text(
        'NAME = "lan"\nTYPE = "RANGED"\nBRIDGE = "br0"\nNETWORK_SIZE = C\n'
        'NETWORK_ADDRESS = "192.168.0.0"\n'
    )
    assert cli("onevnet", "create", "lan.net", "-v") == (0, "ID: 0\n")
    for i in range(3):
        (cli.dir / f"web{i}.one").write_text(
            f'NAME = "web{i}"\nCPU = 0.5\nMEMORY = 64\nNIC = [ NETWORK = "lan" ]\n'
        )
        assert cli("onevm", "create", f"web{i}.one", "-v") == (0, f"ID: {i}\n")
    assert_list(cli.out("onevm", "list"), *(vm_row(i, f"web{i}", "pend") for i in range(3)))
    assert cli.out("onevnet", "list") == (
        "\x1b[1m\x1b[4m  ID USER     NAME              TYPE BRIDGE #LEASES\x1b[0m\n"
        "   0 oneadmin lan             Ranged    br0       3\n"
    )
    # A VM without history: one row with the epoch and SEQ/HOSTNAME empty.
    assert_history(
        cli.out("onevm", "history", "web2"),
        "History for VM 2\n\n" + re.escape(HEADER_HISTORY)
        + re.escape("   2                     01/01 00:00:00             -- ") + TIME
        + re.escape("   none") + "\n\n",
    )  # fmt: skip

    # deploy: names and a range of VMs, the host by name
    assert cli("onevm", "deploy", "web[0-1]", "2", "host01", "-v") == (0, "Deploying VM\n" * 3)
    cli.wait([0, 1, 2], RUNNING)
    assert_list(
        cli.out("onevm", "list"), *(vm_row(i, f"web{i}", "runn", "host01") for i in range(3))
    )
    rc, out = cli("onevnet", "show", "lan")
    assert re.findall(r"^LEASE=\[ IP=192\.168\.0\.(\d+), .*, VID=(\d) \]$", out, re.M) == [
        ("1", "0"), ("2", "1"), ("3", "2")]  # fmt: skip
    assert_history(
        cli.out("onevm", "history", "0", "web1"),
        *(history(i, 0, "none", running=True) for i in range(2)),
    )
    assert cli.out("onehost", "list") == (
        "\x1b[1m\x1b[4m  ID NAME                      RVM   TCPU   FCPU   ACPU    TMEM    FMEM "
        "STAT\x1b[0m\n   0 host01                      3      0      0    100       0       0   on\n"
    )

    # stop web0 → STOPPED; resume → PENDING; deploy again → RUNNING with a new history record
    assert cli("onevm", "stop", "web0", "-v") == (0, "Stopping VM\n")
    cli.wait([0], STOPPED)
    assert_list(
        cli.out("onevm", "list"),
        vm_row(0, "web0", "stop", "host01"),
        vm_row(1, "web1", "runn", "host01"),
        vm_row(2, "web2", "runn", "host01"),
    )
    assert_history(cli.out("onevm", "history", "0"), history(0, 0, "stop"))
    assert cli("onevm", "resume", "0", "-v") == (0, "Resuming VM\n")
    cli.wait([0], PENDING)
    out = cli.out("onevm", "list", "-l", "id,name,stat,hostname")
    assert out == (
        "\x1b[1m\x1b[4m  ID     NAME STAT        HOSTNAME\x1b[0m\n"
        "   0     web0 pend          host01\n"
        "   1     web1 runn          host01\n"
        "   2     web2 runn          host01\n"
    )
    assert cli("onevm", "deploy", "web0", "host01") == (0, "")
    cli.wait([0], RUNNING)
    assert_history(cli.out("onevm", "history", "0"), history(0, 1, "none", running=True))

    # suspend / resume web1 (same host, same history record)
    assert cli("onevm", "suspend", "web1", "-v") == (0, "Suspending VM\n")
    cli.wait([1], SUSPENDED)
    assert_history(cli.out("onevm", "history", "1"), history(1, 0, "stop"))
    assert_list(cli.out("onevm", "list", "-f", "name=web1"), vm_row(1, "web1", "susp", "host01"))
    assert cli("onevm", "resume", "web1") == (0, "")
    cli.wait([1], RUNNING)
    # 1.4's restore copies the history record (cp_history): SEQ 1
    assert_history(cli.out("onevm", "history", "1"), history(1, 1, "none", running=True))

    # shutdown by range, delete, and what is left
    assert cli("onevm", "shutdown", "[0-1]", "-v") == (0, "Shutting down VM\n" * 2)
    assert cli("onevm", "delete", "2", "-v") == (0, "VM correctly deleted\n")
    cli.wait([0, 1, 2], DONE)
    assert cli.out("onevm", "list") == HEADER_VM + "\n"
    assert_history(
        cli.out("onevm", "history", "0", "1", "2"),
        history(0, 1, "none"),
        history(1, 1, "none"),
        history(2, 0, "user"),
    )
    rc, out = cli("onevnet", "show", "lan")
    assert rc == 0 and "LEASE=" not in out, out  # the leases came back
    assert cli("onevnet", "delete", "lan", "-v") == (0, "Virtual Network deleted\n")
    assert " host01                      0 " in cli.out("onehost", "list")
    assert cli("onehost", "delete", "host01", "-v") == (0, "Host deleted\n")


LIST_COLUMNS = (
    "       id ( 4) => ONE identifier for the VM\n"
    "     name ( 8) => Name of the domain\n"
    "     user ( 8) => Name of the owner\n"
    "     stat ( 4) => Actual status of the VM\n"
    "      cpu ( 3) => CPU percentage used by the VM\n"
    "      mem ( 7) => Memory used by the VM\n"
    " hostname (15) => Machine where the VM is running\n"
    "     time (11) => Time since the VM was submitted\n"
)


def test_options_names_ranges_and_errors(cli, tmp_path) -> None:
    """oneadmin's VMs 0 web, 1 db, 2 web (PENDING) and alice's VM 3 app."""
    for name in ("web", "db", "web"):
        cli.rpc.vm_allocate(f'NAME = "{name}"\nMEMORY = 64\n')
    assert cli("oneuser", "create", "alice", "pw") == (0, "")
    alice_auth = tmp_path / "alice_auth"
    alice_auth.write_text("alice:pw\n")
    alice = {"ONE_AUTH": str(alice_auth)}
    (cli.dir / "app.one").write_text('NAME = "app"\nMEMORY = 64\n')
    assert cli("onevm", "create", "app.one", "-v", env=alice) == (0, "ID: 3\n")

    def rows(*spec: tuple[int, str, str]) -> list[str]:
        return [vm_row(v, n, "pend", user=u) for v, n, u in spec]

    web0, db1, web2 = (0, "web", "oneadmin"), (1, "db", "oneadmin"), (2, "web", "oneadmin")
    app3 = (3, "app", "alice")
    assert_list(cli.out("onevm", "list"), *rows(web0, db1, web2, app3))
    # -o: a plain key sorts descending, "-key" ascending (1.4 quirk), as strings
    assert_list(cli.out("onevm", "list", "-o", "id"), *rows(app3, web2, db1, web0))
    assert_list(cli.out("onevm", "list", "-o", "-name,id"), *rows(app3, db1, web2, web0))
    # -f: case-insensitive unanchored regexes, all must match; before the user filter
    assert_list(cli.out("onevm", "list", "-f", "name=^W,user=admin"), *rows(web0, web2))
    assert_list(cli.out("onevm", "list", "alice"), *rows(app3))
    assert_list(cli.out("onevm", "list", "m"), *rows(web0, db1, web2))
    assert_list(cli.out("onevm", "list", "m", env=alice), *rows(app3))
    assert cli("onevm", "--list-columns") == (0, LIST_COLUMNS)

    # -x: the documents of the real oned
    pool = ElementTree.fromstring(cli.out("onevm", "list", "-x"))
    assert pool.tag == "VM_POOL"
    assert [(v.findtext("ID"), v.findtext("NAME")) for v in pool] == [
        ("0", "web"), ("1", "db"), ("2", "web"), ("3", "app")]  # fmt: skip
    vm = ElementTree.fromstring(cli.out("onevm", "show", "db", "-x"))
    assert (vm.tag, vm.findtext("ID"), vm.findtext("STATE")) == ("VM", "1", "1")
    assert vm.findtext("TEMPLATE/MEMORY") == "64"

    # ranges (with leading zeros), names; an action list stops at the first failure
    assert cli("onevm", "hold", "[01+2]", "-v") == (0, "Setting VM to hold state\n" * 2)
    assert cli("onevm", "release", "db", "0", "2", "-v") == (
        255, "Releasing VM\nError: Wrong state to perform action\n")  # fmt: skip
    assert_list(
        cli.out("onevm", "list", "-f", "user=oneadmin"),
        vm_row(0, "web", "pend"), vm_row(1, "db", "pend"), vm_row(2, "web", "hold"),
    )  # fmt: skip
    assert cli("onevm", "show", "web") == (
        255,
        "There are multiple VirtualMachine's with name web.\n",
    )
    assert cli("onevm", "shutdown", "nosuch") == (255, "VirtualMachine named nosuch not found.\n")
    # names are looked up among oneadmin's VMs only (1.4 quirk): alice cannot name her VM
    assert cli("onevm", "hold", "app", env=alice) == (
        255, "VirtualMachine named app not found.\n")  # fmt: skip
    assert cli("onevm", "deploy", "db", "nohost") == (255, "Host named nohost not found.\n")
    assert cli("onevm", "resume", "1") == (255, "Error: Wrong state to perform action\n")
    rc, out = cli("onevm", "shutdown", "99")
    assert (rc, out) == (255, "Error: The virtual machine 99 does not exists\n")
    assert cli("onevm", "history", "99") == (255, "Error: Error getting vm with VID = 99\n")
    assert cli("onevm", "create", "missing.one") == (
        255, "Error: Can not read template: missing.one\n")  # fmt: skip

    # credentials and endpoint
    bad = tmp_path / "bad_auth"
    bad.write_text("oneadmin:wrong\n")
    assert cli("onevm", "create", "app.one", env={"ONE_AUTH": str(bad)}) == (
        255, "Error: User not authenticated, aborting RequestManagerAllocate call.\n")  # fmt: skip
    rc, out = cli("onevm", "shutdown", "0", env={"ONE_AUTH": str(bad)})
    assert (rc, out) == (  # 1.4 (wire capture 79): bad session on vm.action is "not authorized"
        255, "Error: User not authorized to perform operation upon VirtualMachine [0]\n")  # fmt: skip
    assert cli("onevm", "list", env={"ONE_AUTH": str(bad)}) == (
        255, "User not authenticated, aborting RequestManagerPoolInfo call.\n")  # fmt: skip
    port = free_port()
    down = {"ONE_XMLRPC": f"http://127.0.0.1:{port}/RPC2"}
    # onevm list prints its errors without "Error: " (1.4 quirk, spec 6.5)
    assert cli("onevm", "list", env=down) == (255, "Connection refused - connect(2)\n")
    assert cli("onevm", "shutdown", "0", env=down) == (
        255, "Error: Connection refused - connect(2)\n")  # fmt: skip
    assert cli.state(0) == PENDING  # nothing changed by the failed calls
