"""Byte-for-byte comparison with the real 1.4 CLI transcripts (ANSI escapes included).

Each test serves the documents oned returned at that point of the 1.4 session and compares the
tool's stdout and exit status with the recorded ones.
"""

from __future__ import annotations

import pytest
import transcripts as T
from transcripts import captured, expected, xml_output

pytestmark = pytest.mark.skipif(not T.ENTRIES, reason="1.4 transcripts not available")

HOSTS_INIT = T.host_pool(
    T.host(0, "host01", state=0, monitored=False, template=False),
    T.host(1, "host02", state=0, monitored=False, template=False),
)
HOSTS_MONITORED = xml_output("onehost list -x") if T.ENTRIES else ""


def check(result, command: str, occurrence: int = 1) -> None:
    out, rc = expected(command, occurrence)
    assert captured(result.out) == out
    assert result.rc == rc


# -- oneuser ----------------------------------------------------------------------------------


def test_oneuser_list_initial(fake, run):
    fake.responses["one.userpool.info"] = [True, T.user_pool("oneadmin")]
    check(run("oneuser", "list"), "oneuser list", 1)


def test_oneuser_list_and_xml(fake, run):
    doc = xml_output("oneuser list -x")
    assert doc == T.user_pool("oneadmin", "user1", "user2")
    fake.responses["one.userpool.info"] = [True, doc]
    check(run("oneuser", "list"), "oneuser list", 2)
    check(run("oneuser", "list", "-x"), "oneuser list -x")


def test_oneuser_create_sends_sha1(fake, run):
    fake.responses["one.user.allocate"] = [True, 1]
    result = run("oneuser", "create", "user1", "pass1")
    check(result, "oneuser create user1 pass1")
    assert result.out == ""
    assert fake.called("one.user.allocate") == [("user1", T.PASSWORDS["user1"])]


def test_oneuser_create_duplicate(fake, run):
    fake.responses["one.user.allocate"] = [False, "Existing user, cannot duplicate"]
    check(run("oneuser", "create", "user1", "other"), "oneuser create user1 other")


def test_oneuser_delete_by_name(fake, run):
    fake.responses["one.userpool.info"] = [True, T.user_pool("oneadmin", "user1", "user2")]
    fake.responses["one.vmpool.info"] = [True, "<VM_POOL></VM_POOL>"]
    fake.responses["one.user.delete"] = [True]
    check(run("oneuser", "delete", "user2"), "oneuser delete user2")
    assert fake.called("one.vmpool.info") == [(2,)]
    assert fake.called("one.user.delete") == [(2,)]


# -- onehost ----------------------------------------------------------------------------------


def test_onehost_create(fake, run):
    fake.responses["one.host.allocate"] = [True, 0]
    check(run("onehost", "create", "host01", "im_dummy", "vmm_dummy", "tm_dummy"),
          "onehost create host01 im_dummy vmm_dummy tm_dummy")  # fmt: skip
    assert fake.called("one.host.allocate") == [("host01", "im_dummy", "vmm_dummy", "tm_dummy")]


def test_onehost_list_before_monitoring(fake, run):
    fake.responses["one.hostpool.info"] = [True, HOSTS_INIT]
    check(run("onehost", "list"), "onehost list", 1)


def test_onehost_show_before_monitoring(fake, run):
    fake.responses["one.host.info"] = [True, T.host(0, "host01", state=0, monitored=False)]
    check(run("onehost", "show", "0"), "onehost show 0", 1)


def test_onehost_list_monitored(fake, run):
    fake.responses["one.hostpool.info"] = [True, HOSTS_MONITORED]
    check(run("onehost", "list"), "onehost list", 2)
    check(run("onehost", "list", "-x"), "onehost list -x")


def test_onehost_show_monitored_and_xml(fake, run):
    doc = xml_output("onehost show 0 -x")
    assert doc == T.host(0, "host01")
    fake.responses["one.host.info"] = [True, doc]
    check(run("onehost", "show", "0"), "onehost show 0", 2)
    check(run("onehost", "show", "0", "-x"), "onehost show 0 -x")


def test_onehost_show_by_name(fake, run):
    fake.responses["one.hostpool.info"] = [True, HOSTS_MONITORED]
    fake.responses["one.host.info"] = [
        True,
        T.host(1, "host02").replace("1795595881", "1795595883"),
    ]
    check(run("onehost", "show", "host02"), "onehost show host02")
    assert fake.called("one.host.info") == [(1,)]


def test_onehost_show_missing(fake, run):
    fake.responses["one.host.info"] = [False, "Error getting host with HID = 99"]
    check(run("onehost", "show", "99"), "onehost show 99")


def test_onehost_disable_enable_delete(fake, run):
    fake.responses["one.host.enable"] = [True]
    fake.responses["one.host.delete"] = [True]
    fake.responses["one.host.info"] = [True, T.host(2, "host03", 0, False, im="im_nonexistent")]
    check(run("onehost", "disable", "2"), "onehost disable 2")
    check(run("onehost", "enable", "2"), "onehost enable 2")
    check(run("onehost", "delete", "2"), "onehost delete 2")
    assert fake.called("one.host.enable") == [(2, False), (2, True)]
    assert fake.called("one.host.delete") == [(2,)]


def test_onehost_list_with_disabled_host(fake, run):
    pool = HOSTS_MONITORED.replace("</HOST_POOL>", "") + T.host(
        2, "host03", state=4, monitored=False, template=False, im="im_nonexistent"
    ) + "</HOST_POOL>"  # fmt: skip
    fake.responses["one.hostpool.info"] = [True, pool]
    check(run("onehost", "list"), "onehost list", 3)


def test_onehost_help(run):
    check(run("onehost", "help"), "onehost help")


# -- onevnet ----------------------------------------------------------------------------------


def test_onevnet_create_sends_file(fake, run):
    (run.cwd / "templates").mkdir()
    text = 'NAME = "Private LAN"\nTYPE = "RANGED"\n'
    (run.cwd / "templates" / "private.net").write_text(text)
    fake.responses["one.vn.allocate"] = [True, 0]
    check(run("onevnet", "create", "templates/private.net"), "onevnet create templates/private.net")
    assert fake.called("one.vn.allocate") == [(text,)]


def test_onevnet_list(fake, run):
    fake.responses["one.vnpool.info"] = [True, T.vnet_pool()]
    check(run("onevnet", "list"), "onevnet list")
    assert fake.called("one.vnpool.info") == [(-2,)]


def test_onevnet_show_ranged_and_xml(fake, run):
    doc = xml_output("onevnet show 0 -x")
    assert doc == T.ranged_vnet().replace("<LEASES></LEASES>", "<LEASES/>")
    fake.responses["one.vn.info"] = [True, T.ranged_vnet()]
    check(run("onevnet", "show", "0"), "onevnet show 0", 1)
    check(run("onevnet", "show", "0", "-x"), "onevnet show 0 -x")


def test_onevnet_show_fixed(fake, run):
    fake.responses["one.vn.info"] = [True, T.fixed_vnet()]
    check(run("onevnet", "show", "1"), "onevnet show 1")


def test_onevnet_show_with_lease(fake, run):
    fake.responses["one.vn.info"] = [True, T.ranged_vnet(used=True)]
    check(run("onevnet", "show", "0"), "onevnet show 0", 2)


def test_onevnet_show_missing_prints_twice(fake, run):
    fake.responses["one.vn.info"] = [False, "Error getting Virtual Network with NID = 7"]
    check(run("onevnet", "show", "7"), "onevnet show 7")


# -- onevm ------------------------------------------------------------------------------------

S = T.VM0_STIME


def _vm0_info(state: int, lcm: int, **kw) -> str:
    return T.vm(0, "vm-example", state, lcm, S, template=T.VM_TEMPLATE, **kw)


def test_onevm_create(fake, run):
    (run.cwd / "vm.template").write_text('NAME = "vm-example"\n')
    fake.responses["one.vm.allocate"] = [True, 0]
    result = run("onevm", "create", "vm.template")
    assert (captured(result.out), result.rc) == expected("onevm create templates/vm.template")
    assert fake.called("one.vm.allocate") == [('NAME = "vm-example"\n',)]


def test_onevm_list_pending(fake, run):
    fake.responses["one.vmpool.info"] = [True, T.vm_pool(T.vm(0, "vm-example", 1, 0, S))]
    check(run("onevm", "list", now=S), "onevm list", 1)
    assert fake.called("one.vmpool.info") == [(-2,)]


def test_onevm_show_pending(fake, run):
    fake.responses["one.vm.info"] = [True, _vm0_info(1, 0)]
    check(run("onevm", "show", "0"), "onevm show 0", 1)
    assert fake.called("one.vm.info") == [(0,)]


def test_onevm_deploy(fake, run):
    fake.responses["one.vm.deploy"] = [True]
    check(run("onevm", "deploy", "0", "0"), "onevm deploy 0 0")
    assert fake.called("one.vm.deploy") == [(0, 0)]


def test_onevm_list_running(fake, run):
    hist = T.history(0, "host01", 0, S + 1)
    fake.responses["one.vmpool.info"] = [True, T.vm_pool(T.vm(0, "vm-example", 3, 3, S, hist=hist))]
    check(run("onevm", "list", now=S + 1), "onevm list", 2)


def test_onevm_show_running(fake, run):
    hist = T.history(0, "host01", 0, S + 1)
    fake.responses["one.vm.info"] = [True, _vm0_info(3, 3, deploy_id="dummy-0", hist=hist)]
    check(run("onevm", "show", "0"), "onevm show 0", 2)


def test_onevm_history_running(fake, run):
    hist = T.history(0, "host01", 0, S + 1)
    fake.responses["one.vm.info"] = [True, _vm0_info(3, 3, deploy_id="dummy-0", hist=hist)]
    check(run("onevm", "history", "0", now=S + 2), "onevm history 0", 1)


@pytest.mark.parametrize(
    ("occurrence", "state", "lcm", "host", "elapsed"),
    [(3, 4, 0, "host01", 3), (4, 1, 0, "host01", 3), (5, 3, 3, "host02", 4), (6, 5, 0, "host02", 5),
     (7, 3, 3, "host02", 5)],
)  # fmt: skip
def test_onevm_list_states(fake, run, occurrence, state, lcm, host, elapsed):
    hist = T.history(1, host, 1, S + 3)
    fake.responses["one.vmpool.info"] = [True, T.vm_pool(T.vm(0, "vm-example", state, lcm, S,
                                                              hist=hist))]  # fmt: skip
    check(run("onevm", "list", now=S + elapsed), "onevm list", occurrence)


@pytest.mark.parametrize(
    ("command", "rpc", "params"),
    [("onevm stop 0", "one.vm.action", ("stop", 0)), ("onevm resume 0", "one.vm.action",
     ("resume", 0)), ("onevm deploy 0 1", "one.vm.deploy", (0, 1)), ("onevm suspend 0",
     "one.vm.action", ("suspend", 0)), ("onevm migrate 0 0", "one.vm.migrate", (0, 0, False)),
     ("onevm livemigrate 0 1", "one.vm.migrate", (0, 1, True)), ("onevm shutdown 0",
     "one.vm.action", ("shutdown", 0)), ("onevm hold 1", "one.vm.action", ("hold", 1)),
     ("onevm release 1", "one.vm.action", ("release", 1)), ("onevm delete 1", "one.vm.action",
     ("finalize", 1))],
)  # fmt: skip
def test_onevm_actions(fake, run, command, rpc, params):
    fake.responses[rpc] = [True]
    check(run(*command.split()), command)
    assert fake.called(rpc) == [params]


def test_onevm_done_show_history_xml(fake, run):
    doc = xml_output("onevm show 0 -x")
    fake.responses["one.vm.info"] = [True, doc]
    check(run("onevm", "show", "0"), "onevm show 0", 3)
    check(run("onevm", "history", "0"), "onevm history 0", 4)
    check(run("onevm", "show", "0", "-x"), "onevm show 0 -x")


def test_onevm_list_empty(fake, run):
    fake.responses["one.vmpool.info"] = [True, "<VM_POOL></VM_POOL>"]
    result = run("onevm", "list")
    check(result, "onevm list", 8)
    assert result.out.endswith("\x1b[0m\n\n")  # header, then one empty line (spec §6.4)


@pytest.mark.parametrize(
    ("command", "message"),
    [("onevm deploy 99 0", "The virtual machine 99 does not exists"),
     ("onevm shutdown 1", "Wrong state to perform action"),
     ("onevm resume 1", "Wrong state to perform action"),
     ("onevm deploy 1 99", "The host 99 does not exists")],
)  # fmt: skip
def test_onevm_errors(fake, run, command, message):
    fake.responses["one.vm.deploy"] = [False, message]
    fake.responses["one.vm.action"] = [False, message]
    check(run(*command.split()), command)


def test_onevm_create_parse_error(fake, run):
    (run.cwd / "templates").mkdir()
    (run.cwd / "templates" / "bad.template").write_text('NAME = "broken\nCPU = [ \n')
    fake.responses["one.vm.allocate"] = [False, "Error parsing VM template"]
    check(run("onevm", "create", "templates/bad.template"), "onevm create templates/bad.template")


def test_onevm_list_hold(fake, run):
    fake.responses["one.vmpool.info"] = [True, T.vm_pool(T.vm(1, "small", 2, 0, S))]
    check(run("onevm", "list", now=S + 1), "onevm list", 9)


def test_onevm_scheduled_list_xml_history_columns(fake, run):
    doc = xml_output("onevm list -x")
    fake.responses["one.vmpool.info"] = [True, doc]
    fake.responses["one.vm.info"] = [
        True,
        doc.replace("<VM_POOL>", "").split("</VM>")[0].replace("<USERNAME>oneadmin</USERNAME>", "")
        + "</VM>",
    ]
    now = 1795595937 + 7
    check(run("onevm", "list", now=now), "onevm list", 12)
    check(run("onevm", "list", "-x"), "onevm list -x")
    check(run("onevm", "history", "2"), "onevm history 2")
    check(run("onevm", "list", "-l", "id,name,stat,host"), "onevm list -l id,name,stat,host")


def test_onevm_pending_three(fake, run):
    vms = [T.vm(2, "small", 1, 0, 1795595937), T.vm(3, "small", 1, 0, 1795595937),
           T.vm(4, "nonet", 1, 0, 1795595937)]  # fmt: skip
    fake.responses["one.vmpool.info"] = [True, T.vm_pool(*vms)]
    check(run("onevm", "list", now=1795595938), "onevm list", 11)


def test_onehost_list_after_scheduling(fake, run):
    pool = HOSTS_MONITORED.replace(
        "<HID>1</HID>", "<HID>1</HID>"
    ).replace("<RUNNING_VMS>0</RUNNING_VMS></HOST_SHARE></HOST></HOST_POOL>",
              "<RUNNING_VMS>3</RUNNING_VMS></HOST_SHARE></HOST></HOST_POOL>")  # fmt: skip
    fake.responses["one.hostpool.info"] = [True, pool]
    check(run("onehost", "list"), "onehost list", 6)


def test_onevm_list_columns_and_version(run):
    check(run("onevm", "list", "--list-columns"), "onevm list --list-columns")
    check(run("onevm", "--version"), "onevm --version")
