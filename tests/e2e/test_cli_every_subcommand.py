"""Every subcommand of the four CLIs as a subprocess against a real oned (issue 7).

tests/e2e/test_cli_oned.py and tests/cli/test_real_oned.py take VMs through their main
life cycle; this file runs the subcommands (and aliases) they leave out — ``onehost
add/enable/disable/top``, ``onevm submit/migrate/livemigrate/cancel/restart/top``,
``oneuser delete`` and more of ``onevnet show/delete/list`` — and compares the output with
the 1.4 layouts of spec §6.5-6.8. A last, parametrised check makes sure that every command
registered in a tool's click group is run against a real oned by at least one test, so a new
subcommand without such a test fails here. TZ is UTC; clock-dependent columns are matched by
pattern.
"""

from __future__ import annotations

import hashlib
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from one_core.cli import onehost, oneuser, onevm, onevnet

from .cli_runner import (
    BOOT,
    CLEAR,
    DONE,
    HEADER_VM,
    RUNNING,
    STAMP,
    Cli,
    history,
    vm_row,
)

HEADER_HOST = (
    "\x1b[1m\x1b[4m  ID NAME                      RVM   TCPU   FCPU   ACPU    TMEM    FMEM "
    "STAT\x1b[0m\n"
)
HEADER_VNET = "\x1b[1m\x1b[4m  ID USER     NAME              TYPE BRIDGE #LEASES\x1b[0m\n"
HEADER_USER = (
    "\x1b[1m\x1b[4m  ID USER            PASSWORD                                           "
    "ENABLE\x1b[0m\n"
)
HOST = ("im_dummy", "vmm_dummy", "tm_dummy")


def title(text: str, underline: bool = True) -> str:
    """A bold (and underlined) section title padded to 80 columns."""
    return "\x1b[1m" + ("\x1b[4m" if underline else "") + f"{text:<80}" + "\x1b[0m"


def host_row(hid: int, name: str, rvm: int, stat: str) -> str:
    """A monitored dummy host: 800 CPU, 16777216 KB (cut to the 7 columns, as 1.4 did)."""
    return f"{hid:>4} {name:<25} {rvm:>3}    800    800    800 1677721 1677721 {stat:>4}\n"


def host_show(shown_id: str, hid: int, name: str, state: str, rvm: int) -> str:
    line = "%-22s: %-20s"
    return "\n".join(
        [
            title(f"HOST {shown_id} INFORMATION"),
            line % ("ID", hid), line % ("NAME", name), line % ("STATE", state),
            line % ("IM_MAD", "im_dummy"), line % ("VM_MAD", "vmm_dummy"),
            line % ("TM_MAD", "tm_dummy"),
            "",
            title("HOST SHARES", False),
            line % ("MAX MEM", 16777216), line % ("USED MEM (REAL)", 0),
            line % ("USED MEM (ALLOCATED)", 64 * 1024 * rvm), line % ("MAX CPU", 800),
            line % ("USED CPU (REAL)", 0), line % ("USED CPU (ALLOCATED)", 100 * rvm),
            line % ("RUNNING VMS", rvm),
            "",
            title("MONITORING INFORMATION", False),
            "CPUSPEED=2000", "FREECPU=800", "FREEMEMORY=16777216", f"HOSTNAME={name}",
            "HYPERVISOR=dummy", "NETRX=0", "NETTX=0", "TOTALCPU=800", "TOTALMEMORY=16777216",
            "USEDCPU=0", "USEDMEMORY=0",
        ]
    ) + "\n"  # fmt: skip


# -- onehost ----------------------------------------------------------------------------------


def test_onehost_add_enable_disable_show_top(oned_factory) -> None:
    cli = Cli(oned_factory(HOST_MONITORING_INTERVAL=1))
    assert cli("onehost", "add", "host01", *HOST, "-v") == (0, "ID: 0\n")
    assert cli("onehost", "create", "host02", *HOST) == (0, "")
    # errors first (no name, unknown id, unknown name, missing parameter)
    assert cli("onehost", "enable", "99") == (255, "Error: Error getting host with HID = 99\n")
    assert cli("onehost", "disable", "nosuch") == (255, "Host named nosuch not found.\n")
    assert cli("onehost", "enable") == (255, "Command enable requires one parameter to run\n")
    deadline = time.monotonic() + 20
    while cli.out("onehost", "list").count("800") < 6:  # both hosts monitored
        assert time.monotonic() < deadline, cli.oned.log()
        time.sleep(0.2)

    assert cli.out("onehost", "list") == (
        HEADER_HOST + host_row(0, "host01", 0, "on") + host_row(1, "host02", 0, "on")
    )
    # show: the header uses the id as given
    assert cli.out("onehost", "show", "00") == host_show("00", 0, "host01", "MONITORED", 0)
    # exactly one host: further arguments are ignored
    assert cli("onehost", "show", "0", "1") == (0, host_show("0", 0, "host01", "MONITORED", 0))

    assert cli("onehost", "disable", "host01", "-v") == (0, "Host disabled\n")
    assert cli.out("onehost", "show", "host01") == host_show("0", 0, "host01", "DISABLED", 0)
    assert cli.out("onehost", "list") == (
        HEADER_HOST + host_row(0, "host01", 0, "off") + host_row(1, "host02", 0, "on")
    )
    assert cli("onehost", "disable", "[0-1]", "-v") == (0, "Host disabled\n" * 2)
    assert cli.out("onehost", "list", "-l", "id,stat") == (
        "\x1b[1m\x1b[4m  ID STAT\x1b[0m\n   0  off\n   1  off\n"
    )
    assert cli("onehost", "enable", "host01", "1", "-v") == (0, "Host enabled\n" * 2)
    assert cli("onehost", "enable", "0") == (0, "")
    deadline = time.monotonic() + 20  # an enabled host goes back to MONITORED
    while "MONITORED" not in cli.out("onehost", "show", "1"):
        assert time.monotonic() < deadline, cli.oned.log()
        time.sleep(0.2)
    assert cli.out("onehost", "show", "1") == host_show("1", 1, "host02", "MONITORED", 0)

    # top: the list screen after the clear, refreshed every -d seconds; Ctrl-C exits 0
    rc, screens = cli.top("onehost")
    assert (rc, screens[0]) == (
        0, HEADER_HOST + host_row(0, "host01", 0, "on") + host_row(1, "host02", 0, "on"))  # fmt: skip

    # a host with a VM is disabled by delete, a free one deleted (and the rest ignored)
    cli.rpc.vm_allocate('NAME = "vm0"\nCPU = 1\nMEMORY = 64\n')
    assert cli("onevm", "deploy", "0", "host02") == (0, "")
    cli.wait([0], RUNNING)
    deadline = time.monotonic() + 20
    while host_row(1, "host02", 1, "on") not in cli.out("onehost", "list"):
        assert time.monotonic() < deadline, cli.out("onehost", "list")
        time.sleep(0.2)
    assert cli.out("onehost", "show", "host02") == host_show("1", 1, "host02", "MONITORED", 1)
    assert cli("onehost", "delete", "host02", "-v") == (
        0, "Host still has associated VMs. It will be disabled instead.\nHost disabled\n")  # fmt: skip
    assert cli("onehost", "delete", "host01", "host02", "-v") == (0, "Host deleted\n")
    assert cli.out("onehost", "list") == HEADER_HOST + host_row(1, "host02", 1, "off")
    cli.rpc.close()


# -- onevm ------------------------------------------------------------------------------------


def test_onevm_submit_migrate_livemigrate_cancel_restart_top(cli) -> None:
    for name in ("host01", "host02"):
        assert cli("onehost", "create", name, *HOST) == (0, "")
    (cli.dir / "vm.one").write_text('NAME = "web"\nCPU = 1\nMEMORY = 64\n')
    for vid in range(3):
        assert cli("onevm", "submit", "vm.one", "-v") == (0, f"ID: {vid}\n")

    # wrong states: the messages of oned, exit 255
    assert cli("onevm", "livemigrate", "0", "host02") == (
        255, "Error: Can not migrate VM 0, wrong state\n")  # fmt: skip
    assert cli("onevm", "migrate", "0", "host02") == (
        255, "Error: Can not migrate VM 0, wrong state\n")  # fmt: skip
    assert cli("onevm", "cancel", "0") == (255, "Error: Wrong state to perform action\n")
    assert cli("onevm", "restart", "0") == (255, "Error: Wrong state to perform action\n")
    assert cli("onevm", "migrate", "0", "nohost") == (255, "Host named nohost not found.\n")
    assert cli("onevm", "livemigrate", "0") == (
        255, "Command livemigrate requires 2 parameters to run.\n")  # fmt: skip

    # VM 2 stays 2 s in BOOT (dummy deploy delay) so that it can be restarted
    (cli.oned.var / "2").mkdir(parents=True, exist_ok=True)
    (cli.oned.var / "2" / "dummy_delay_deploy").write_text("2\n")
    assert cli("onevm", "deploy", "[0-2]", "host01", "-v") == (0, "Deploying VM\n" * 3)
    cli.wait([2], BOOT)
    rc, out = cli("onevm", "list", "-f", "id=2")
    assert re.fullmatch(re.escape(HEADER_VM) + vm_row(2, "web", "boot", "host01") + "\n", out)
    assert cli("onevm", "restart", "2", "-v") == (0, "Restarting VM\n")
    cli.wait([0, 1, 2], RUNNING)
    assert "Sending BOOT command to VM again" in (cli.oned.var / "2" / "vm.log").read_text()

    assert cli("onevm", "livemigrate", "0", "host02", "-v") == (0, "Migrating VM\n")
    assert cli("onevm", "migrate", "1", "host02", "-v") == (0, "Migrating VM\n")
    cli.wait([0, 1], RUNNING)
    rc, out = cli("onevm", "list")
    assert re.fullmatch(
        re.escape(HEADER_VM)
        + "".join(vm_row(v, "web", "runn", h) + "\n"
                  for v, h in ((0, "host02"), (1, "host02"), (2, "host01"))),
        out,
    ), out  # fmt: skip
    rc, out = cli("onevm", "history", "0", "1")
    assert re.fullmatch(
        "".join(history(v, 1, "none", running=True, host="host02") for v in (0, 1)), out
    ), out

    # top: the first screen is the list (with its filter)
    rc, screens = cli.top("onevm", "-f", "hostname=host02")
    assert rc == 0 and len(screens) >= 2
    screen = screens[0]
    assert re.fullmatch(
        re.escape(HEADER_VM) + vm_row(0, "web", "runn", "host02") + "\n"
        + vm_row(1, "web", "runn", "host02") + "\n", screen,
    ), screen  # fmt: skip

    # cancel: DONE, reason "canc"; the VM leaves the list
    assert cli("onevm", "cancel", "web", "-v") == (
        255, "There are multiple VirtualMachine's with name web.\n")  # fmt: skip
    assert cli("onevm", "cancel", "0", "-v") == (0, "Cancelling VM\n")
    cli.wait([0], DONE)
    rc, out = cli("onevm", "history", "0")
    assert re.fullmatch(history(0, 1, "canc", host="host02"), out), out
    rc, out = cli("onevm", "show", "0")
    line = "%-15s: %-20s"
    assert re.fullmatch(
        re.escape(title("VIRTUAL MACHINE 0 INFORMATION") + "\n"
                  + line % ("ID", 0) + "\n" + line % ("NAME", "web") + "\n"
                  + line % ("STATE", "DONE") + "\n" + line % ("LCM_STATE", "LCM_INIT") + "\n")
        + rf"START TIME     : {STAMP}      \nEND TIME       : {STAMP}      \n"
        + re.escape(line % ("DEPLOY ID:", "dummy-0") + "\n\n"
                    + title("VIRTUAL MACHINE TEMPLATE", False) + "\n"
                    + "CPU=1\nMEMORY=64\nNAME=web\nVMID=0\n"),
        out,
    ), out  # fmt: skip
    rc, out = cli("onevm", "list", "-l", "id,stat,hostname")
    assert out == (
        "\x1b[1m\x1b[4m  ID STAT        HOSTNAME\x1b[0m\n"
        "   1 runn          host02\n   2 runn          host01\n"
    )


# -- oneuser ----------------------------------------------------------------------------------


def test_oneuser_create_list_delete(cli) -> None:
    admin = "   0 oneadmin        34c629abfcb47856b3d1c0a30798221aefb61605             True\n"
    assert cli("oneuser", "create", "alice", "pw", "-v") == (0, "ID: 1\n")
    assert cli("oneuser", "create", "bob", "secret", "-v") == (0, "ID: 2\n")
    assert cli("oneuser", "create", "carol") == (
        255, "Command create requires 2 parameters to run.\n")  # fmt: skip
    assert cli.out("oneuser", "list") == HEADER_USER + admin + "".join(
        f"{uid:>4} {name:<15} {hashlib.sha1(pw.encode()).hexdigest():<50}   True\n"
        for uid, name, pw in ((1, "alice", "pw"), (2, "bob", "secret"))
    )

    # bob owns a VM: delete asks; anything but YES keeps the user (exit 255)
    auth = cli.dir / "bob_auth"
    auth.write_text("bob:secret\n")
    (cli.dir / "b.one").write_text('NAME = "b"\nMEMORY = 64\n')
    assert cli("onevm", "create", "b.one", env={"ONE_AUTH": str(auth)}) == (0, "")
    prompt = "The user bob still has VM's defined, type YES if you are sure you\n"
    prompt += "want to delete this user: "
    assert cli("oneuser", "delete", "bob", "-v", stdin="yes\n") == (255, prompt)
    assert cli("oneuser", "delete", "bob", "-v", stdin="YES\n") == (0, prompt + "User deleted\n")
    # a numeric id skips the VM check (1.4 quirk); errors go on with the next user
    assert cli("oneuser", "delete", "99", "alice", "-v") == (0, "User deleted\n")
    assert cli("oneuser", "delete", "99") == (255, "Error: Error retrieving user 99\n")
    assert cli("oneuser", "delete", "nosuch") == (255, "User named nosuch not found.\n")
    assert cli.out("oneuser", "list") == HEADER_USER + admin
    rc, out = cli("oneuser", "list", "-x")
    assert rc == 0 and out.startswith("<USER_POOL>") and out.count("<USER>") == 1, out


def test_oneuser_delete_prompt_at_eof_keeps_the_user(cli) -> None:
    """1.4 crashed (exit 1) at EOF; docs/decisions/cli.md: treated as "not YES", exit 255."""
    cli.rpc.vm_allocate('NAME = "a"\nMEMORY = 64\n')
    assert cli("oneuser", "delete", "oneadmin") == (
        255,
        "The user oneadmin still has VM's defined, type YES if you are sure you\n"
        "want to delete this user: ",
    )
    assert "oneadmin" in cli.out("oneuser", "list")


# -- onevnet ----------------------------------------------------------------------------------


def test_onevnet_show_delete_list(cli) -> None:
    (cli.dir / "fixed.net").write_text(
        'NAME = "Public"\nTYPE = FIXED\nBRIDGE = br1\n'
        'LEASES = [ IP = 130.10.0.1, MAC = "50:20:20:20:20:20" ]\n'
        "LEASES = [ IP = 130.10.0.2 ]\n"
    )
    (cli.dir / "lan.net").write_text(
        'NAME = "lan"\nTYPE = RANGED\nBRIDGE = br0\nNETWORK_SIZE = C\nNETWORK_ADDRESS = 10.1.0.0\n'
    )
    assert cli("onevnet", "create", "fixed.net", "-v") == (0, "ID: 0\n")
    assert cli("onevnet", "create", "lan.net", "-v") == (0, "ID: 1\n")
    (cli.dir / "vm.one").write_text('NAME = "v"\nMEMORY = 64\nNIC = [ NETWORK = "Public" ]\n')
    assert cli("onevm", "create", "vm.one") == (0, "")

    line = "%-10s: %-20s"
    head = (
        title("VIRTUAL NETWORK 0 INFORMATION") + "\n" + line % ("ID: ", 0) + "\n"
        + line % ("UID: ", 0) + "\n\n" + title("VIRTUAL NETWORK TEMPLATE", False) + "\n"
    )  # fmt: skip
    rc, out = cli("onevnet", "show", "Public")
    assert rc == 0 and out.startswith(head), out
    assert "\nBRIDGE=br1\n" in out and "\nLEASES=[ IP=130.10.0.1, MAC=50:20:20:20:20:20 ]\n" in out
    leases = out.split("\n\n" + title("LEASES INFORMATION", False) + "\n")[1]
    assert re.fullmatch(
        r"LEASE=\[ IP=130\.10\.0\.1, MAC=50:20:20:20:20:20, USED=1, VID=0 \]\n"
        r"LEASE=\[ IP=130\.10\.0\.2, MAC=[0-9a-f:]{17}, USED=0, VID=-1 \]\n",
        leases,
    ), leases
    rc, out = cli("onevnet", "show", "lan")
    assert "LEASES INFORMATION" not in out and "\nNETWORK_ADDRESS=10.1.0.0\n" in out, out
    rc, out = cli("onevnet", "show", "[0-1]")
    assert rc == 0 and out.count("INFORMATION") == 3, out
    # an error is printed twice (1.4 quirk)
    assert cli("onevnet", "show", "99") == (
        255, "Error: Error getting Virtual Network with NID = 99\n" * 2)  # fmt: skip
    assert cli("onevnet", "show", "nosuch") == (255, "VirtualNetwork named nosuch not found.\n")

    assert cli.out("onevnet", "list") == HEADER_VNET + (
        "   0 oneadmin Public           Fixed    br1       1\n"
        "   1 oneadmin lan             Ranged    br0       0\n"
    )
    assert cli.out("onevnet", "list", "m", "-o", "id") == HEADER_VNET + (
        "   1 oneadmin lan             Ranged    br0       0\n"
        "   0 oneadmin Public           Fixed    br1       1\n"
    )
    assert cli.out("onevnet", "list", "alice") == HEADER_VNET + "\n"  # no rows: an empty line
    assert cli.out("onevnet", "list", "-l", "id,name,size") == (
        "\x1b[1m\x1b[4m  ID NAME              SIZE\x1b[0m\n"
        "   0 Public                \n   1 lan                   \n"
    )
    rc, out = cli("onevnet", "list", "-x")
    assert rc == 0 and out.startswith("<VNET_POOL>") and out.count("<VNET>") == 2, out

    # delete: errors go on, the first deletion ends the command (1.4 quirk)
    assert cli("onevnet", "delete", "99", "lan", "Public", "-v") == (
        0, "Virtual Network deleted\n")  # fmt: skip
    assert cli("onevnet", "delete", "99") == (
        255, "Error: Error getting Virtual Network with NID = 99\n")  # fmt: skip
    assert cli.out("onevnet", "list") == HEADER_VNET + (
        "   0 oneadmin Public           Fixed    br1       1\n"
    )


# -- top against an oned that is down ---------------------------------------------------------


def test_top_when_the_fetch_fails(oned_factory) -> None:
    cli = Cli(oned_factory(start=False))
    # onehost top keeps clearing; after Ctrl-C the last error is printed (exit 255)
    rc, screens = cli.top("onehost")
    assert rc == 255 and screens[:-1] == [""] * (len(screens) - 1), screens
    assert screens[-1] == "Error: Connection refused - connect(2)\n", screens
    # onevm's list exits on the error, which ends the loop: printed once, exit 0
    assert cli("onevm", "top", "-d", "1") == (0, CLEAR + "Connection refused - connect(2)\n")
    cli.rpc.close()


# -- every registered subcommand is run against a real oned -----------------------------------

ROOT = pathlib.Path(__file__).resolve().parents[2]
REAL_ONED_TESTS = sorted((ROOT / "tests/e2e").glob("test_*.py")) + [
    ROOT / "tests/cli/test_real_oned.py"
]
TOOLS = (onevm, onehost, onevnet, oneuser)
SUBCOMMANDS = [(m.TOOL.name, c) for m in TOOLS for c in sorted(m.group.commands)]
SUBCOMMANDS += [(m.TOOL.name, a) for m in TOOLS for a in sorted(m.TOOL.aliases)]


def test_the_subcommand_list_is_complete() -> None:
    """Guard: the meta-check below sees the commands of spec §6.5-6.8 (plus nothing missed)."""
    assert {c for t, c in SUBCOMMANDS if t == "onehost"} >= {
        "create", "add", "show", "delete", "list", "top", "enable", "disable"}  # fmt: skip
    assert {c for t, c in SUBCOMMANDS if t == "oneuser"} >= {"create", "delete", "list"}
    assert {c for t, c in SUBCOMMANDS if t == "onevnet"} >= {"create", "show", "delete", "list"}
    assert len([c for t, c in SUBCOMMANDS if t == "onevm"]) >= 18


@pytest.mark.parametrize(("tool", "command"), SUBCOMMANDS, ids=[f"{t}-{c}" for t, c in SUBCOMMANDS])
def test_every_subcommand_runs_against_a_real_oned(tool: str, command: str) -> None:
    """A call ``("<tool>", "<command>"`` (the Cli helpers' form) appears in a real-oned test."""
    pattern = re.compile(rf"""\(\s*["']{tool}["'],\s*["']{command}["']""")
    if tool in ("onehost", "onevm") and command == "top":
        pattern = re.compile(rf"""top\(\s*["']{tool}["']|\(\s*["']{tool}["'],\s*["']top["']""")
    users = [p.name for p in REAL_ONED_TESTS if pattern.search(p.read_text())]
    assert users, f"{tool} {command} is run against a real oned by no test"


def test_top_ends_on_ctrl_c_even_mid_fetch(cli) -> None:
    """Ctrl-C must end ``top`` whenever it lands, also inside an XML-RPC call.

    With ``-d 0`` the tool fetches continuously, so the signal arrives mid-request; Python
    swallows a KeyboardInterrupt raised while the HTTP client frees a response, which once
    let ``onevm top`` run on (the loop now also checks a flag set by its SIGINT handler).
    """
    for attempt in range(8):
        proc = subprocess.Popen(
            [sys.executable, *cli.argv("onevm", "top", "-d", "0")[1:]],
            env=cli.env, cwd=cli.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None
        # the first screen means the tool is in its fetch loop (a Ctrl-C while Python is
        # still importing is not what this test is about); keep draining its output after
        first = proc.stdout.read(1)
        assert first, proc.stderr.read() if proc.stderr else ""
        drain = threading.Thread(target=proc.stdout.read, daemon=True)
        drain.start()
        time.sleep(0.05 + attempt * 0.037)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError(f"onevm top ignored Ctrl-C (attempt {attempt})") from None
        assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
