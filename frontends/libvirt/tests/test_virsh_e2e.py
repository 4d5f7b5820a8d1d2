"""Debian's real ``virsh`` against ``one-libvirtd`` + a real oned (dummy drivers) + mm_sched.

Every virsh command's effect is checked through oned's XML-RPC API.
"""

from __future__ import annotations

from pathlib import Path

import defusedxml.ElementTree as DET
import pytest

from .conftest import (  # type: ignore[import-not-found]
    ACTIVE,
    DONE,
    HOLD,
    RUNNING,
    SUSPENDED,
    Stack,
    run_virsh,
    seed_domain_xml,
    virsh_path,
)

pytestmark = pytest.mark.skipif(
    virsh_path() is None, reason="virsh (libvirt-clients) not installed"
)


def write_xml(tmp_path: Path, name: str, extra: str = "") -> Path:
    path = tmp_path / f"{name}.xml"
    path.write_text(seed_domain_xml(name, extra))
    return path


def virsh(stack: Stack, *args: str) -> str:
    result = run_virsh(stack.uri, *args)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def vid_of(stack: Stack, name: str) -> int:
    for vm in stack.client.vmpool_info(-2).findall("VM"):
        if vm.findtext("NAME") == name:
            return int(vm.findtext("ID"))
    raise AssertionError(f"no VM named {name}")


def list_rows(stack: Stack, *flags: str) -> dict[str, tuple[str, str]]:
    """``virsh list`` as {name: (id, state)}."""
    rows = {}
    for line in virsh(stack, "list", *flags).splitlines()[2:]:
        parts = line.split(None, 2)
        if len(parts) == 3:
            rows[parts[1]] = (parts[0], parts[2].strip())
    return rows


def create_running(stack: Stack, tmp_path: Path, name: str) -> int:
    out = virsh(stack, "create", str(write_xml(tmp_path, name)))
    assert f"Domain '{name}' created from" in out
    vid = vid_of(stack, name)
    stack.wait_vm(vid, ACTIVE, RUNNING)
    return vid


def test_create_is_scheduled_and_running(stack: Stack, tmp_path: Path) -> None:
    vid = create_running(stack, tmp_path, "e2e-create")
    vm = stack.client.vm_info(vid)
    assert vm.findtext("TEMPLATE/MEMORY") == "32"
    assert vm.findtext("TEMPLATE/OS/KERNEL") == "/boot/vmlinuz-2.6.24-17-xen"
    assert vm.findtext("TEMPLATE/DISK/SOURCE") == "/images/sgehosts/01/disk.img"
    assert vm.findtext("TEMPLATE/NIC/BRIDGE") == "eth0"
    assert vm.findtext("HISTORY/HOSTNAME") == "host01"

    assert list_rows(stack)["e2e-create"] == (str(vid), "running")

    info = dict(
        (k.strip(), v.strip())
        for k, v in (
            line.split(":", 1)
            for line in virsh(stack, "dominfo", "e2e-create").splitlines()
            if ":" in line
        )
    )
    assert info["Id"] == str(vid)
    assert info["State"] == "running"
    assert info["CPU(s)"] == "1"
    assert info["Max memory"] == "32768 KiB"
    assert info["OS Type"] == "hvm"
    assert info["UUID"].endswith(f"{vid:012x}")
    # the UUID and the id find the same domain
    assert "e2e-create" in virsh(stack, "domname", info["UUID"])
    assert "e2e-create" in virsh(stack, "domname", str(vid))

    root = DET.fromstring(virsh(stack, "dumpxml", "e2e-create"))
    assert root.get("id") == str(vid)
    assert root.findtext("name") == "e2e-create"
    assert root.findtext("memory") == "32768"
    assert root.findtext("os/initrd") == "/boot/initrd.img-2.6.24-17-xen"
    assert root.find("devices/interface/mac").get("address") == "00:16:3e:01:01:01"


def test_suspend_and_resume(stack: Stack, tmp_path: Path) -> None:
    vid = create_running(stack, tmp_path, "e2e-susp")
    assert "suspended" in virsh(stack, "suspend", "e2e-susp")
    stack.wait_vm(vid, SUSPENDED)
    assert list_rows(stack)["e2e-susp"] == (str(vid), "paused")
    assert "resumed" in virsh(stack, "resume", "e2e-susp")
    stack.wait_vm(vid, ACTIVE, RUNNING)
    assert list_rows(stack)["e2e-susp"][1] == "running"


def test_shutdown_ends_the_vm(stack: Stack, tmp_path: Path) -> None:
    vid = create_running(stack, tmp_path, "e2e-shut")
    assert "is being shutdown" in virsh(stack, "shutdown", "e2e-shut")
    stack.wait_vm(vid, DONE)
    assert "e2e-shut" not in list_rows(stack, "--all")


def test_destroy_cancels_the_vm(stack: Stack, tmp_path: Path) -> None:
    vid = create_running(stack, tmp_path, "e2e-destroy")
    assert "destroyed" in virsh(stack, "destroy", str(vid))
    stack.wait_vm(vid, DONE)
    assert "e2e-destroy" not in list_rows(stack, "--all")


def test_define_holds_and_start_releases(stack: Stack, tmp_path: Path) -> None:
    out = virsh(stack, "define", str(write_xml(tmp_path, "e2e-def")))
    assert "Domain 'e2e-def' defined from" in out
    vid = vid_of(stack, "e2e-def")
    assert stack.vm(vid)[0] == HOLD
    assert list_rows(stack, "--all")["e2e-def"] == ("-", "shut off")
    assert "e2e-def" not in list_rows(stack)  # not active
    assert "e2e-def" in virsh(stack, "list", "--inactive", "--name")
    assert "Domain 'e2e-def' started" in virsh(stack, "start", "e2e-def")
    stack.wait_vm(vid, ACTIVE, RUNNING)
    assert list_rows(stack)["e2e-def"] == (str(vid), "running")
    # a running domain cannot be started again nor undefined
    again = run_virsh(stack.uri, "start", "e2e-def")
    assert again.returncode != 0 and "already active" in again.stderr  # virsh checks isActive first
    busy = run_virsh(stack.uri, "undefine", "e2e-def")
    assert busy.returncode != 0 and "cannot undefine an active domain" in busy.stderr


def test_undefine_removes_a_defined_domain(stack: Stack, tmp_path: Path) -> None:
    virsh(stack, "define", str(write_xml(tmp_path, "e2e-undef")))
    vid = vid_of(stack, "e2e-undef")
    assert "has been undefined" in virsh(stack, "undefine", "e2e-undef")
    stack.wait_vm(vid, DONE)
    assert "e2e-undef" not in list_rows(stack, "--all")


def test_unsupported_xml_is_rejected_with_its_name(stack: Stack, tmp_path: Path) -> None:
    before = len(stack.client.vmpool_info(-2).findall("VM"))
    path = write_xml(tmp_path, "e2e-bad", "\n    <hostdev mode='subsystem' type='pci'/>")
    result = run_virsh(stack.uri, "create", str(path))
    assert result.returncode == 1
    assert (
        "unsupported configuration: unsupported element <hostdev> in domain/devices"
        in result.stderr
    )
    assert len(stack.client.vmpool_info(-2).findall("VM")) == before
    # the daemon still serves
    assert "Running hypervisor: ONE 1.4.0" in virsh(stack, "version")


def test_duplicate_name_is_refused(stack: Stack, tmp_path: Path) -> None:
    virsh(stack, "define", str(write_xml(tmp_path, "e2e-dup")))
    result = run_virsh(stack.uri, "create", str(write_xml(tmp_path, "e2e-dup")))
    assert result.returncode == 1 and "already exists" in result.stderr
    virsh(stack, "undefine", "e2e-dup")


def test_unknown_domain(stack: Stack) -> None:
    result = run_virsh(stack.uri, "dominfo", "no-such-domain")
    assert result.returncode == 1 and "failed to get domain 'no-such-domain'" in result.stderr


def test_connection_information(stack: Stack) -> None:
    out = virsh(stack, "version")
    assert "Using API: ONE" in out and "Running hypervisor: ONE 1.4.0" in out
    nodeinfo = virsh(stack, "nodeinfo")
    assert "CPU(s):              8" in nodeinfo  # the dummy host's 800 % CPU


def auth_conf(tmp_path: Path, user: str, password: str) -> Path:
    """A libvirt client auth file (what LIBVIRT_AUTH_FILE / ~/.config/libvirt/auth.conf hold)."""
    path = tmp_path / f"auth-{user}.conf"
    path.write_text(
        f"[credentials-one]\nauthname={user}\npassword={password}\n\n"
        "[auth-libvirt-localhost]\ncredentials=one\n"
    )
    return path


def test_unix_socket_logs_in_as_the_users_own_account(stack: Stack, tmp_path: Path) -> None:
    uid = stack.client.user_allocate("alice", "alicepw")
    uri = f"one+unix:///?socket={stack.unix}"
    good = auth_conf(tmp_path, "alice", "alicepw")
    result = run_virsh(uri, "create", str(write_xml(tmp_path, "e2e-alice")), auth_file=good)
    assert result.returncode == 0, result.stderr
    vid = vid_of(stack, "e2e-alice")
    assert stack.client.vm_info(vid).findtext("UID") == str(uid)
    listed = run_virsh(uri, "list", "--all", "--name", auth_file=good)
    assert "e2e-alice" in listed.stdout
    # a wrong password is refused; no prompt is possible (stdin closed)
    bad = run_virsh(uri, "list", auth_file=auth_conf(tmp_path, "alice", "nope"))
    assert bad.returncode == 1 and "authentication failed" in bad.stderr
    run_virsh(uri, "destroy", "e2e-alice", auth_file=good)
