"""Behaviour of the four tools beyond the transcripts: spec §6 rules, quirks, errors, additions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import transcripts as T

from one_core.cli import texts

S = T.VM0_STIME
VMS = T.vm_pool(
    T.vm(0, "web1", 3, 3, S, hist=T.history(0, "node1", 0, S)),
    T.vm(1, "web2", 1, 0, S),
    T.vm(2, "db", 2, 0, S, username="alice", uid=1),
    T.vm(10, "web3", 5, 0, S),
)


# -- common infrastructure --------------------------------------------------------------------


def test_help_version_and_unknown_command(run):
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


def test_list_columns_texts(run):
    out = "".join(run(tool, "--list-columns").out for tool in ("onehost", "onevnet", "oneuser"))
    assert out.splitlines()[0] == "       id ( 4) => ONE identifier for host"
    assert "totalleases ( 7) => Number of this virtual network's given leases" in out
    assert out.splitlines()[-1] == "   enable ( 6) => Wether the user is active or not"
    assert len(out.splitlines()) == 9 + 7 + 4


def test_option_errors_exit_255(run):
    assert (run("onevm", "list", "-z").out, run("onevm", "list", "-z").rc) == (
        "invalid option: -z\n", 255)  # fmt: skip
    assert run("onehost", "top", "-d", "abc").out == "invalid argument: -d abc\n"


def test_missing_parameters(run):
    assert (run("onevm", "deploy", "1").out, run("onevm", "deploy").rc) == (
        "Command deploy requires 2 parameters to run.\n", 255)  # fmt: skip
    assert run("onevm", "show").out == "Command get_info requires one parameter to run\n"
    assert run("onehost", "create", "a").out == "Command create requires 4 parameters to run.\n"
    assert run("oneuser", "create", "a").out == "Command create requires 2 parameters to run.\n"


def test_credentials_errors(run, tmp_path):
    missing = run("onevm", "list", ONE_AUTH=str(tmp_path / "none"), HOME=str(tmp_path))
    assert (missing.rc, missing.out) == (255, "ONE_AUTH file not present\n")
    bad = tmp_path / "bad_auth"
    bad.write_text("no colon here\n")
    malformed = run("onevm", "list", ONE_AUTH=str(bad))
    assert (malformed.rc, malformed.out) == (255, "Authorization file malformed\n")


def test_home_one_auth_and_session(fake, run, tmp_path):
    (tmp_path / ".one").mkdir()
    (tmp_path / ".one" / "one_auth").write_text("helen:pw:with:colons\n")
    fake.responses["one.hostpool.info"] = [True, "<HOST_POOL></HOST_POOL>"]
    assert run("onehost", "list", ONE_AUTH="", HOME=str(tmp_path)).rc == 0
    from one_core.cli.session import sha1_hex

    assert fake.calls[-1][1] == ("helen:" + sha1_hex("pw:with:colons"),)


def test_unreachable_oned_is_one_line(run, auth_file):
    result = run("onehost", "list", ONE_XMLRPC="http://127.0.0.1:1/RPC2")
    assert (result.rc, result.out, result.err) == (255, "Error: Connection refused - connect(2)\n",
                                                  "")  # fmt: skip
    result = run("onevm", "list", ONE_XMLRPC="http://127.0.0.1:1/RPC2")
    assert (result.rc, result.out) == (255, "Connection refused - connect(2)\n")  # no prefix


def test_wrong_credentials(fake, run):
    fake.responses["one.vmpool.info"] = [
        False, "User not authenticated, aborting RequestManagerPoolInfo call."]  # fmt: skip
    result = run("onevm", "list")
    assert result.out == "User not authenticated, aborting RequestManagerPoolInfo call.\n"
    assert result.rc == 255


def test_fault_message(fake, run):
    result = run("onevnet", "list")  # the fake has no vnpool.info: fault -506
    assert result.out == "Error: Method 'one.vnpool.info' not defined\n"


# -- onevm ------------------------------------------------------------------------------------


def test_list_filters_flags(fake, run):
    fake.responses["one.vmpool.info"] = [True, VMS]
    for arg, flag in (("a", -2), ("all", -2), ("m", -1), ("mine", -1), ("7", 7)):
        run("onevm", "list", arg, now=S)
        assert fake.called("one.vmpool.info")[-1] == (flag,)
    result = run("onevm", "list", "alice", now=S)
    assert fake.called("one.vmpool.info")[-1] == (-2,)
    assert [line.split()[0] for line in result.out.splitlines()[1:]] == ["2"]


def test_list_order_filter_and_columns(fake, run):
    fake.responses["one.vmpool.info"] = [True, VMS]
    result = run("onevm", "list", "-o", "id", "-l", "id,name", now=S)
    assert [line.split()[0] for line in result.out.splitlines()[1:]] == ["2", "10", "1", "0"]
    result = run("onevm", "-f", "name=WEB,stat=ru", "list", now=S)
    assert [line.split()[0] for line in result.out.splitlines()[1:]] == ["0"]
    result = run("onevm", "list", "-f", "name", now=S)
    assert (result.rc, result.out) == (255, "invalid argument: -f name\n")


def test_actions_with_ranges_names_and_verbose(fake, run):
    fake.responses["one.vmpool.info"] = [True, VMS]
    fake.responses["one.vm.action"] = [True]
    result = run("onevm", "hold", "web[1-2]", "[10+1]", "-v")
    assert result.out == "Setting VM to hold state\n" * 3
    assert fake.called("one.vm.action") == [("hold", 0), ("hold", 1), ("hold", 10)]
    assert fake.called("one.vmpool.info") == [(0,), (0,)]  # names: uid 0's VMs only


def test_action_stops_at_first_failure(fake, run):
    answers = iter([[True], [False, "Wrong state to perform action"], [True]])
    fake.responses["one.vm.action"] = lambda *params: next(answers)
    result = run("onevm", "stop", "[1-3]", "-v")
    assert (result.rc, result.out) == (255, "Stopping VM\nError: Wrong state to perform action\n")
    assert len(fake.called("one.vm.action")) == 2


def test_deploy_resolves_host_once_and_vms_in_order(fake, run):
    fake.responses["one.hostpool.info"] = [True, T.host_pool(T.host(3, "node[1]"))]
    fake.responses["one.vm.deploy"] = [True]
    fake.responses["one.vm.migrate"] = [True]
    assert run("onevm", "deploy", "[4-5]", "node[1]", "-v").out == "Deploying VM\n" * 2
    assert fake.called("one.vm.deploy") == [(4, 3), (5, 3)]
    assert run("onevm", "livemigrate", "07", "3").rc == 0
    assert fake.called("one.vm.migrate") == [(7, 3, True)]


def test_name_lookup_errors(fake, run):
    fake.responses["one.vmpool.info"] = [True, T.vm_pool(T.vm(0, "twin", 1, 0, S),
                                                          T.vm(1, "twin", 1, 0, S))]  # fmt: skip
    result = run("onevm", "shutdown", "twin")
    assert (result.rc, result.out) == (255, "There are multiple VirtualMachine's with name twin.\n")
    assert run("onevm", "show", "nothere").out == "VirtualMachine named nothere not found.\n"
    assert run("onehost", "enable", "x").out == "Host named x not found.\n"  # fault: empty pool


def test_create_unreadable_and_verbose(fake, run):
    result = run("onevm", "create", "nope.template")
    assert (result.rc, result.out) == (255, "Error: Can not read template: nope.template\n")
    (run.cwd / "t").write_text("CPU=1\n")
    fake.responses["one.vm.allocate"] = [True, 42]
    assert run("onevm", "submit", "t", "-v").out == "ID: 42\n"


def test_show_missing_vm_is_a_clean_error(fake, run):
    fake.responses["one.vm.info"] = [False, "Error getting vm with VID = 99"]
    result = run("onevm", "show", "99")
    assert (result.rc, result.out, result.err) == (255, "Error: Error getting vm with VID = 99\n",
                                                  "")  # fmt: skip


def test_show_several_and_json(fake, run):
    fake.responses["one.vm.info"] = lambda session, vid: [
        True,
        T.vm(vid, f"v{vid}", 1, 0, S, template="<TEMPLATE/>"),
    ]
    result = run("onevm", "show", "[1-2]")
    assert result.out.count("INFORMATION") == 2
    assert result.out.index("VIRTUAL MACHINE 1 ") < result.out.index("VIRTUAL MACHINE 2 ")
    data = json.loads(run("onevm", "show", "1", "--json").out)
    assert data["NAME"] == "v1" and data["TEMPLATE"] == ""
    assert [d["ID"] for d in json.loads(run("onevm", "show", "1", "2", "--json").out)] == ["1", "2"]


def test_history_all_vms_and_options(fake, run):
    fake.responses["one.vmpool.info"] = [True, VMS]
    result = run("onevm", "history", "-l", "id,hostname,reason", now=S)
    blocks = result.out.split("History for VM ")[1:]
    assert [b.split("\n")[0] for b in blocks] == ["0", "1", "2", "10"]
    assert blocks[0] == ("0\n\n\x1b[1m\x1b[4m  ID        HOSTNAME REASON\x1b[0m\n"
                         "   0           node1   none\n\n")  # fmt: skip
    assert blocks[1].endswith("   1                   none\n\n")
    assert fake.called("one.vmpool.info") == [(-2,)]


def test_list_json(fake, run):
    fake.responses["one.vmpool.info"] = [True, VMS]
    data = json.loads(run("onevm", "list", "alice", "--json").out)
    assert [vm["NAME"] for vm in data] == ["db"]


def test_top_refreshes_until_interrupted(fake, run):
    fake.responses["one.vmpool.info"] = [True, VMS]
    proc = subprocess.Popen(
        [sys.executable, "-m", "one_core.cli.onevm", "top", "-d", "0"],
        env=run.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
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


def test_help_for_one_command(run):
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


def test_onehost_delete_disables_busy_hosts_and_stops_after_delete(fake, run):
    hosts = {0: T.host(0, "a", running_vms=2), 1: T.host(1, "b"), 2: T.host(2, "c")}
    fake.responses["one.host.info"] = lambda session, hid: [True, hosts[hid]]
    fake.responses["one.host.enable"] = [True]
    fake.responses["one.host.delete"] = [True]
    result = run("onehost", "delete", "[0-2]", "-v")
    assert result.out == (
        "Host still has associated VMs. It will be disabled instead.\nHost disabled\nHost deleted\n"
    )
    assert fake.called("one.host.enable") == [(0, False)]
    assert fake.called("one.host.delete") == [(1,)]


def test_onehost_delete_missing_host_has_no_prefix(fake, run):
    fake.responses["one.host.info"] = [False, "Error getting host with HID = 9"]
    assert run("onehost", "delete", "9").out == "Error getting host with HID = 9\n"


def test_onehost_show_keeps_given_id(fake, run):
    fake.responses["one.host.info"] = [True, T.host(0, "host01")]
    out = run("onehost", "show", "00").out
    assert out.startswith("\x1b[1m\x1b[4mHOST 00 INFORMATION ")
    assert "ID                    : 0                   \n" in out


def test_onehost_list_json_and_enable_verbose(fake, run):
    fake.responses["one.hostpool.info"] = [True, T.host_pool(T.host(0, "h"))]
    assert json.loads(run("onehost", "list", "--json").out)[0]["HOST_SHARE"]["MAX_CPU"] == "800"
    fake.responses["one.host.enable"] = [True]
    assert run("onehost", "enable", "0", "1", "-v").out == "Host enabled\nHost enabled\n"


# -- onevnet ----------------------------------------------------------------------------------


def test_onevnet_delete_quirk(fake, run):
    answers = {7: [False, "Error getting Virtual Network with NID = 7"], 0: [True], 1: [True]}
    fake.responses["one.vn.delete"] = lambda session, nid: answers[nid]
    result = run("onevnet", "delete", "7", "0", "1", "-v")
    assert (result.rc, result.out) == (0, "Virtual Network deleted\n")
    assert fake.called("one.vn.delete") == [(7,), (0,)]
    result = run("onevnet", "delete", "7")
    assert (result.rc, result.out) == (255, "Error: Error getting Virtual Network with NID = 7\n")


def test_onevnet_names_and_list_by_user(fake, run):
    fake.responses["one.vnpool.info"] = [True, T.vnet_pool()]
    fake.responses["one.vn.info"] = [True, T.fixed_vnet()]
    assert run("onevnet", "show", "Public LAN").rc == 0
    assert fake.called("one.vn.info") == [(1,)]
    assert fake.called("one.vnpool.info") == [(0,)]
    assert run("onevnet", "list", "nobody").out.count("\n") == 2  # header + empty line


# -- oneuser ----------------------------------------------------------------------------------


def test_oneuser_delete_asks_when_user_has_vms(fake, run):
    fake.responses["one.userpool.info"] = [True, T.user_pool("oneadmin", "user1")]
    fake.responses["one.vmpool.info"] = [True, VMS]
    fake.responses["one.user.delete"] = [True]
    prompt = ("The user user1 still has VM's defined, type YES if you are sure you\n"
              "want to delete this user: ")  # fmt: skip
    result = run("oneuser", "delete", "user1", stdin="no\n")
    assert (result.rc, result.out) == (255, prompt)
    assert fake.called("one.user.delete") == []
    result = run("oneuser", "delete", "user1", "-v", stdin="YES\n")
    assert (result.rc, result.out) == (0, prompt + "User deleted\n")
    assert fake.called("one.user.delete") == [(1,)]


def test_oneuser_delete_numeric_skips_vm_check(fake, run):
    fake.responses["one.user.delete"] = [True]
    result = run("oneuser", "delete", "1")
    assert (result.rc, result.out) == (0, "")
    assert fake.called("one.vmpool.info") == []


def test_oneuser_delete_continues_after_error(fake, run):
    answers = {1: [False, "Error retrieving user 1"], 2: [True]}
    fake.responses["one.user.delete"] = lambda session, uid: answers[uid]
    assert run("oneuser", "delete", "1", "2").rc == 0
    result = run("oneuser", "delete", "2", "1")
    assert (result.rc, result.out) == (255, "Error: Error retrieving user 1\n")


def test_shell_completion_of_commands_and_names(fake, run):
    fake.responses["one.vmpool.info"] = [True, VMS]
    env = {"_ONEVM_COMPLETE": "bash_complete", "COMP_CWORD": "1", "COMP_WORDS": "onevm sh"}
    assert run("onevm", **env).out == "plain,show\nplain,shutdown\n"
    env.update(COMP_CWORD="2", COMP_WORDS="onevm show web")
    assert run("onevm", **env).out == "plain,web1\nplain,web2\nplain,web3\n"
    script = run("onevm", _ONEVM_COMPLETE="bash_source").out
    assert "_onevm_completion()" in script


def test_closed_pipe_is_quiet(fake, run):
    fake.responses["one.vmpool.info"] = [
        True,
        T.vm_pool(*[T.vm(i, "x", 1, 0, S) for i in range(3000)]),
    ]
    proc = subprocess.run(
        f"{sys.executable} -m one_core.cli.onevm list | head -c 12",
        shell=True, env=run.env(), capture_output=True, timeout=60,
    )  # fmt: skip
    assert proc.stdout == b"\x1b[1m\x1b[4m  ID"
    assert proc.stderr == b""
