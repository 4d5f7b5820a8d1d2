"""Behaviour of the four tools beyond the transcripts: spec §6 rules, quirks, errors, additions.

The tools run against a real oned (``run``, or the shared read-only ``world``, see
conftest.py) or against no server at all (``run_offline``: what must be decided before asking
oned). The canned server (fake_oned.py) is left only for answers a real oned never gives:

* ``test_fault_message`` — an XML-RPC fault for a method the server does not define (our oned
  defines every 1.4 method, so it cannot answer -506);
* ``test_closed_pipe_is_quiet`` — a pool listing of 3,000 VMs, which the canned server sends
  at once and a real oned would need 3,000 allocations for (nothing of oned is under test).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from conftest import (
    ALICE,
    PRIVATE_LAN,
    PUBLIC_LAN,
    Runner,
    allocate,
    as_user,
    deploy,
    fill_to,
    vm_state,
    wait_vm,
)
from fake_oned import vm_pool_of_pending

from one_core.cli import texts
from one_core.testing.cloud import wait_until

HOLD, PENDING, ACTIVE, STOPPED, SUSPENDED, DISABLED = 2, 1, 3, 4, 5, 4


def ids(out: str) -> list[str]:
    """First column of a listing's rows."""
    return [line.split()[0] for line in out.splitlines()[1:] if line.strip()]


def hosts(client, *names: str) -> list[int]:
    return [client.host_allocate(n, "im_dummy", "vmm_dummy", "tm_dummy") for n in names]


# -- common infrastructure --------------------------------------------------------------------


def test_help_version_and_unknown_command(run_offline):
    run = run_offline
    help_text = texts.BANNER.format(tool="oneuser") + texts.OPTIONS_SUMMARY + "\n"
    help_text += texts.COMMANDS_HELP["oneuser"]
    result = run("oneuser", "-h")
    assert (result.rc, result.out) == (0, help_text)
    result = run("oneuser", "-v", "--help")  # 1.4: -h without a command: the tool help
    assert (result.rc, result.out) == (0, help_text)
    assert (run("oneuser").rc, run("oneuser", "frobnicate").out) == (255, help_text)
    result = run("onevnet", "--version")
    assert (result.rc, result.out) == (0, texts.VERSION)
    assert texts.VERSION.endswith("(dsa-research.org)\n\n")


def test_list_columns_texts(run_offline):
    tools = ("onehost", "onevnet", "oneuser")
    out = "".join(run_offline(tool, "--list-columns").out for tool in tools)
    assert out.splitlines()[0] == "       id ( 4) => ONE identifier for host"
    assert "totalleases ( 7) => Number of this virtual network's given leases" in out
    assert out.splitlines()[-1] == "   enable ( 6) => Wether the user is active or not"
    assert len(out.splitlines()) == 9 + 7 + 4


def test_option_errors_exit_255(run_offline):
    run = run_offline
    assert (run("onevm", "list", "-z").out, run("onevm", "list", "-z").rc) == (
        "invalid option: -z\n", 255)  # fmt: skip
    assert run("onehost", "top", "-d", "abc").out == "invalid argument: -d abc\n"


def test_missing_parameters(run_offline):
    run = run_offline
    assert (run("onevm", "deploy", "1").out, run("onevm", "deploy").rc) == (
        "Command deploy requires 2 parameters to run.\n", 255)  # fmt: skip
    assert run("onevm", "show").out == "Command get_info requires one parameter to run\n"
    assert run("onehost", "create", "a").out == "Command create requires 4 parameters to run.\n"
    assert run("oneuser", "create", "a").out == "Command create requires 2 parameters to run.\n"


def test_credentials_errors(run_offline, tmp_path):
    run = run_offline
    missing = run("onevm", "list", ONE_AUTH=str(tmp_path / "none"), HOME=str(tmp_path))
    assert (missing.rc, missing.out) == (255, "ONE_AUTH file not present\n")
    bad = tmp_path / "bad_auth"
    bad.write_text("no colon here\n")
    malformed = run("onevm", "list", ONE_AUTH=str(bad))
    assert (malformed.rc, malformed.out) == (255, "Authorization file malformed\n")


def test_home_one_auth_and_session(run, tmp_path):
    """~/.one/one_auth is read when ONE_AUTH is empty; the password may contain colons."""
    client = run.oned.client()
    client.user_allocate("helen", "pw:with:colons")
    allocate(as_user(run.oned, "helen", "pw:with:colons"), "hers")
    (tmp_path / ".one").mkdir()
    (tmp_path / ".one" / "one_auth").write_text("helen:pw:with:colons\n")
    result = run("onevm", "list", "m", ONE_AUTH="", HOME=str(tmp_path))
    assert (result.rc, ids(result.out), result.out.split("\n")[1].split()[1]) == (0, ["0"], "helen")
    (tmp_path / ".one" / "one_auth").write_text("helen:pw\n")
    assert run("onevm", "list", ONE_AUTH="", HOME=str(tmp_path)).rc == 255


def test_unreachable_oned_is_one_line(run_offline):
    result = run_offline("onehost", "list")
    assert (result.rc, result.out, result.err) == (255, "Error: Connection refused - connect(2)\n",
                                                  "")  # fmt: skip
    result = run_offline("onevm", "list")
    assert (result.rc, result.out) == (255, "Connection refused - connect(2)\n")  # no prefix


def test_wrong_credentials(run, tmp_path):
    (tmp_path / "wrong").write_text("oneadmin:wrong\n")
    result = run("onevm", "list", ONE_AUTH=str(tmp_path / "wrong"))
    assert result.out == "User not authenticated, aborting RequestManagerPoolInfo call.\n"
    assert result.rc == 255


def test_fault_message(canned, run_canned):
    result = run_canned("onevnet", "list")  # the canned server has no vnpool.info: fault -506
    assert result.out == "Error: Method 'one.vnpool.info' not defined\n"


# -- onevm ------------------------------------------------------------------------------------


def test_list_filters_flags(world):
    for arg, shown in (("a", ["0", "1", "2", "10"]), ("all", ["0", "1", "2", "10"]),
                       ("m", ["0", "1", "10"]), ("mine", ["0", "1", "10"]), ("1", ["2"]),
                       ("7", []), ("alice", ["2"])):  # fmt: skip
        result = world("onevm", "list", arg)
        assert (result.rc, ids(result.out)) == (0, shown), arg


def test_list_order_filter_and_columns(world):
    result = world("onevm", "list", "-o", "id", "-l", "id,name")
    assert ids(result.out) == ["2", "10", "1", "0"]  # 1.4 compares the texts, inverted
    assert result.out.splitlines()[0] == "\x1b[1m\x1b[4m  ID     NAME\x1b[0m"
    result = world("onevm", "-f", "name=WEB,stat=ru", "list")
    assert ids(result.out) == ["0"]
    result = world("onevm", "list", "-f", "name")
    assert (result.rc, result.out) == (255, "invalid argument: -f name\n")


def test_actions_with_ranges_names_and_verbose(run):
    client = run.oned.client()
    allocate(client, "web1"), allocate(client, "web2")
    client.user_allocate(*ALICE)
    allocate(as_user(run.oned, *ALICE), "web1")
    fill_to(client, 10)
    allocate(client, "web3")
    result = run("onevm", "hold", "web[1-2]", "[10+1]", "-v")
    assert (result.rc, result.out) == (0, "Setting VM to hold state\n" * 3)
    # names are looked up among the user's own VMs: alice's web1 (2) is neither ambiguous
    # nor held
    assert [vm_state(client, vid)[0] for vid in (0, 1, 2, 10)] == [HOLD, HOLD, PENDING, HOLD]


def test_action_stops_at_first_failure(run):
    client = run.oned.client()
    (hid,) = hosts(client, "node1")
    for name in ("v0", "v1", "v2", "v3"):
        allocate(client, name)
    deploy(client, 1, hid)
    deploy(client, 3, hid)
    result = run("onevm", "stop", "[1-3]", "-v")  # 2 is PENDING: cannot stop
    assert (result.rc, result.out) == (255, "Stopping VM\nError: Wrong state to perform action\n")
    wait_vm(client, 1, STOPPED)
    assert vm_state(client, 3)[:2] == (ACTIVE, 3)  # never asked


def test_deploy_resolves_host_once_and_vms_in_order(run):
    client = run.oned.client()
    hosts(client, "h0", "h1", "h2", "node[1]")  # a name that reads like a range
    fill_to(client, 4)
    allocate(client, "a"), allocate(client, "b")
    assert run("onevm", "deploy", "[4-5]", "node[1]", "-v").out == "Deploying VM\n" * 2
    wait_vm(client, 4, ACTIVE, 3, hid=3)
    wait_vm(client, 5, ACTIVE, 3, hid=3)
    assert run("onevm", "livemigrate", "04", "0").rc == 0  # ids with leading zeros
    wait_vm(client, 4, ACTIVE, 3, hid=0)


def test_name_lookup_errors(run):
    client = run.oned.client()
    allocate(client, "twin"), allocate(client, "twin")
    result = run("onevm", "shutdown", "twin")
    assert (result.rc, result.out) == (255, "There are multiple VirtualMachine's with name twin.\n")
    assert run("onevm", "show", "nothere").out == "VirtualMachine named nothere not found.\n"
    assert run("onehost", "enable", "x").out == "Host named x not found.\n"  # empty pool


def test_create_unreadable_and_verbose(run):
    result = run("onevm", "create", "nope.template")
    assert (result.rc, result.out) == (255, "Error: Can not read template: nope.template\n")
    (run.cwd / "t").write_text("CPU=1\n")
    assert run("onevm", "submit", "t", "-v").out == "ID: 0\n"
    assert run.oned.client().vm_info(0).findtext("NAME") == "one-0"


def test_show_missing_vm_is_a_clean_error(world):
    result = world("onevm", "show", "99")
    assert (result.rc, result.out, result.err) == (255, "Error: Error getting vm with VID = 99\n",
                                                  "")  # fmt: skip


def test_show_several_and_json(world):
    result = world("onevm", "show", "[1-2]")
    assert result.out.count("INFORMATION") == 2
    assert result.out.index("VIRTUAL MACHINE 1 ") < result.out.index("VIRTUAL MACHINE 2 ")
    data = json.loads(world("onevm", "show", "1", "--json").out)
    assert data["NAME"] == "web2" and data["TEMPLATE"]["MEMORY"] == "64"
    assert [d["ID"] for d in json.loads(world("onevm", "show", "1", "2", "--json").out)] == [
        "1", "2"]  # fmt: skip


def test_history_all_vms_and_options(world):
    result = world("onevm", "history", "-l", "id,hostname,reason")
    blocks = result.out.split("History for VM ")[1:]
    assert [b.split("\n")[0] for b in blocks] == ["0", "1", "2", "10"]
    assert blocks[0] == ("0\n\n\x1b[1m\x1b[4m  ID        HOSTNAME REASON\x1b[0m\n"
                         "   0           node1   none\n\n")  # fmt: skip
    assert blocks[1].endswith("   1                   none\n\n")
    assert blocks[3].endswith("  10           node1   stop\n\n")  # suspended: record closed


def test_list_json(world):
    data = json.loads(world("onevm", "list", "alice", "--json").out)
    assert [vm["NAME"] for vm in data] == ["db"]


def test_top_refreshes_until_interrupted(world):
    proc = subprocess.Popen(
        [sys.executable, "-m", "one_core.cli.onevm", "top", "-d", "0"],
        env=world.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    seen = b""
    while seen.count(b"\x1b[2J\x1b[H\x1b[0;0H") < 3:
        chunk = os.read(proc.stdout.fileno(), 65536)
        assert chunk, proc.stderr.read()
        seen += chunk
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    screen = seen.split(b"\x1b[2J\x1b[H\x1b[0;0H")[1]
    assert screen.startswith(b"\x1b[1m\x1b[4m  ID     USER")
    assert b"   0 oneadmin     web1 runn" in screen


def test_help_for_one_command(run_offline):
    run = run_offline
    result = run("onevm", "help", "migrate")
    assert result.rc == 0
    assert result.out.startswith("Usage: onevm migrate [OPTIONS] <vm>... <host>")
    assert run("onevm", "help").rc == 255  # 1.4: unknown command
    # beyond 1.4: --help after a command describes that command
    for argv in (("onevm", "migrate", "--help"), ("onevm", "-v", "migrate", "3", "-h")):
        result = run(*argv)
        assert result.rc == 0
        assert result.out.startswith("Usage: onevm migrate [OPTIONS] <vm>... <host>")
    result = run("oneuser", "list", "--help")
    assert (result.rc, result.out.startswith("Usage: oneuser list")) == (0, True)


# -- onehost ----------------------------------------------------------------------------------


def test_onehost_delete_disables_busy_hosts_and_stops_after_delete(run):
    client = run.oned.client()
    a, b, c = hosts(client, "a", "b", "c")
    for name in ("v0", "v1"):
        deploy(client, allocate(client, name), a)
    result = run("onehost", "delete", "[0-2]", "-v")
    assert result.out == (
        "Host still has associated VMs. It will be disabled instead.\nHost disabled\nHost deleted\n"
    )
    pool = client.hostpool_info()
    assert [(h.findtext("NAME"), int(h.findtext("STATE"))) for h in pool.findall("HOST")] == [
        ("a", DISABLED), ("c", 0)]  # fmt: skip


def test_onehost_delete_missing_host_has_no_prefix(run):
    assert run("onehost", "delete", "9").out == "Error getting host with HID = 9\n"


def test_onehost_show_keeps_given_id(run):
    hosts(run.oned.client(), "host01")
    out = run("onehost", "show", "00").out
    assert out.startswith("\x1b[1m\x1b[4mHOST 00 INFORMATION ")
    assert "ID                    : 0                   \n" in out


def test_onehost_list_json_and_enable_verbose(oned_factory, auth_file, tmp_path):
    oned = oned_factory(HOST_MONITORING_INTERVAL=1)
    run = Runner(oned.url, auth_file, tmp_path, oned)
    client = oned.client()
    hosts(client, "h", "i")
    wait_until(lambda: client.host_info(0).findtext("STATE") == "2", 60.0, "host h MONITORED")
    assert json.loads(run("onehost", "list", "--json").out)[0]["HOST_SHARE"]["MAX_CPU"] == "800"
    client.host_enable(0, False)
    client.host_enable(1, False)
    assert run("onehost", "enable", "0", "1", "-v").out == "Host enabled\nHost enabled\n"
    assert "4" not in [h.findtext("STATE") for h in client.hostpool_info().findall("HOST")]


# -- onevnet ----------------------------------------------------------------------------------


def test_onevnet_delete_quirk(run):
    client = run.oned.client()
    client.vn_allocate(PRIVATE_LAN), client.vn_allocate(PUBLIC_LAN)
    result = run("onevnet", "delete", "7", "0", "1", "-v")
    assert (result.rc, result.out) == (0, "Virtual Network deleted\n")
    # 1.4 stops after the first deletion: network 1 is still there
    assert [n.findtext("ID") for n in client.vnpool_info(-2).findall("VNET")] == ["1"]
    result = run("onevnet", "delete", "7")
    assert (result.rc, result.out) == (255, "Error: Error getting Virtual Network with NID = 7\n")


def test_onevnet_names_and_list_by_user(world):
    result = world("onevnet", "show", "Public LAN")
    assert result.rc == 0
    assert result.out.startswith("\x1b[1m\x1b[4mVIRTUAL NETWORK 1 INFORMATION ")
    assert world("onevnet", "list", "nobody").out.count("\n") == 2  # header + empty line
    assert ids(world("onevnet", "list", "oneadmin").out) == ["0", "1"]


# -- oneuser ----------------------------------------------------------------------------------


def _user_with_a_vm(run) -> None:
    run.oned.client().user_allocate("user1", "pw")
    allocate(as_user(run.oned, "user1", "pw"), "theirs")


def _users(run) -> list[str]:
    return [u.findtext("NAME") for u in run.oned.client().userpool_info().findall("USER")]


def test_oneuser_delete_asks_when_user_has_vms(run):
    _user_with_a_vm(run)
    prompt = ("The user user1 still has VM's defined, type YES if you are sure you\n"
              "want to delete this user: ")  # fmt: skip
    result = run("oneuser", "delete", "user1", stdin="no\n")
    assert (result.rc, result.out) == (255, prompt)
    assert _users(run) == ["oneadmin", "user1"]
    result = run("oneuser", "delete", "user1", "-v", stdin="YES\n")
    assert (result.rc, result.out) == (0, prompt + "User deleted\n")
    assert _users(run) == ["oneadmin"]


def test_oneuser_delete_numeric_skips_vm_check(run):
    _user_with_a_vm(run)
    result = run("oneuser", "delete", "1")
    assert (result.rc, result.out) == (0, "")
    assert _users(run) == ["oneadmin"]


def test_oneuser_delete_continues_after_error(run):
    client = run.oned.client()
    for name in ("a", "b", "c"):
        client.user_allocate(name, "pw")
    client.user_delete(1)
    assert run("oneuser", "delete", "1", "2").rc == 0  # only the last answer counts
    result = run("oneuser", "delete", "3", "1")
    assert (result.rc, result.out) == (255, "Error: Error retrieving user 1\n")
    assert _users(run) == ["oneadmin"]


def test_shell_completion_of_commands_and_names(world):
    env = {"_ONEVM_COMPLETE": "bash_complete", "COMP_CWORD": "1", "COMP_WORDS": "onevm sh"}
    assert world("onevm", **env).out == "plain,show\nplain,shutdown\n"
    env.update(COMP_CWORD="2", COMP_WORDS="onevm show web")
    assert world("onevm", **env).out == "plain,web1\nplain,web2\nplain,web3\n"
    script = world("onevm", _ONEVM_COMPLETE="bash_source").out
    assert "_onevm_completion()" in script


def test_closed_pipe_is_quiet(canned, run_canned):
    canned.responses["one.vmpool.info"] = [True, vm_pool_of_pending(3000)]
    proc = subprocess.run(
        f"{sys.executable} -m one_core.cli.onevm list | head -c 12",
        shell=True, env=run_canned.env(), capture_output=True, timeout=60,
    )  # fmt: skip
    assert proc.stdout == b"\x1b[1m\x1b[4m  ID"
    assert proc.stderr == b""
