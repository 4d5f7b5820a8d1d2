"""oned + im_kvm + vmm_kvm + tm_ssh / tm_nfs on a host reached over real SSH.

The host is this machine: the test sshd on loopback (host name
``127.0.0.1``, which the transfer drivers do not take for the front-end) and
the local libvirtd, guests under TCG (``DOMAIN_TYPE = "qemu"``). Everything
goes through a real ``oned`` subprocess and the ``onehost``/``onevnet``/
``onevm`` command-line tools. One guest boot per transfer driver, one for the
real live migration to a second libvirt host in namespaces
(``second_host.py``); the shell-syntax test boots nothing. See docs/kvm.md.

Machine-wide names carry this run's prefix (:func:`one_core.testing.prefix.run_prefix`):
the domains (vmm_kvm ``DOMAIN_PREFIX``), the bridge, the second host's namespace, so
two test runs on one machine do not collide.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lxml import etree

from one_core.testing.guest import (
    MARKER_CONTEXT_BEGIN,
    MARKER_CONTEXT_END,
    MARKER_POWEROFF,
    MARKER_UP,
    GuestKit,
    virsh,
)
from one_core.testing.prefix import run_prefix, scoped_name

pytestmark = pytest.mark.timeout(400)

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent

# VM states (spec §1.1)
PENDING, ACTIVE, STOPPED, DONE, FAILED = 1, 3, 4, 6, 7
RUNNING = 3

DOMAIN_PREFIX = f"{run_prefix()}-one-"
"""This run's vmm_kvm ``DOMAIN_PREFIX``: its domains are ``<run prefix>-one-<vid>``."""


def domain(vid: int) -> str:
    """The libvirt domain name of VM ``vid`` in this run."""
    return f"{DOMAIN_PREFIX}{vid}"


def sections(sshd, kit: GuestKit, tm: str, probes: Path, extra_vmm: str = "") -> str:
    """The driver sections; the host keeps the im_kvm probes in ``probes`` (not the shared
    ``/var/tmp/one/im/kvm``: another test run on this machine may be updating that one)."""
    ssh = f'ssh_user = "{sshd.user}", ssh_port = "{sshd.port}", ssh_key = "{sshd.key_filename}"'
    return f"""
IM_MAD = [ name = "im_kvm", driver = "kvm", remote_dir = "{probes}", {ssh} ]
VM_MAD = [ name = "vmm_kvm", driver = "kvm", type = "kvm", domain_type = "{kit.domain_type}",
           emulator = "{kit.emulator}", libvirt_uri = "{kit.uri}", shutdown_timeout = "120",
           shutdown_poll = "0.5", domain_prefix = "{DOMAIN_PREFIX}",
           {ssh}{extra_vmm} ]
TM_MAD = [ name = "tm_{tm}", driver = "{tm}", {ssh} ]
SCHED  = [ name = "rank", mode = "internal", interval = 1 ]
"""


class Cli:
    """The console scripts, run as subprocesses against one oned."""

    def __init__(self, oned):
        self.env = oned.env

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(BIN / tool), *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        if check:
            assert result.returncode == 0, (tool, args, result.stdout, result.stderr)
        return result

    def xml(self, tool: str, *args: str) -> etree._Element:
        return etree.fromstring(self.run(tool, "show", "--xml", *args).stdout.encode())

    def vm_state(self, vid: int) -> tuple[int, int]:
        vm = self.xml("onevm", str(vid))
        return int(vm.findtext("STATE")), int(vm.findtext("LCM_STATE"))

    def wait_vm(self, vid: int, want: tuple[int, int], oned, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        state = None
        while time.monotonic() < deadline:
            state = self.vm_state(vid)
            if state == want:
                return
            if state[0] == FAILED or (state[0] == ACTIVE and state[1] in (14, 16)):
                break  # FAILED, or LCM FAILURE / UNKNOWN
            time.sleep(0.5)
        raise AssertionError(
            f"VM {vid} is {state}, not {want}\n{self.run('onevm', 'show', str(vid)).stdout}"
            f"\n--- vm.log\n{vm_log(oned, vid)}\n--- oned.log (tail)\n{oned.log()[-4000:]}"
        )


def vm_log(oned, vid: int) -> str:
    path = oned.var / f"{vid}" / "vm.log"
    return path.read_text(errors="replace") if path.exists() else "(no vm.log)"


def meminfo_total() -> int:
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    raise AssertionError("no MemTotal")


def start_oned(
    oned_factory, sshd, kit: GuestKit, tm: str, location: Path, vm_dir: Path, extra_vmm: str = ""
):
    """oned with the kvm drivers and tm ``tm``; returns ``(oned, cli)``."""
    oned = oned_factory(
        location=location,
        sections=sections(sshd, kit, tm, location / "host-im", extra_vmm),
        HOST_MONITORING_INTERVAL=2,
        VM_POLLING_INTERVAL=3,
        VM_DIR=f'"{vm_dir}"',
    )
    return oned, Cli(oned)


def monitored_host(cli: Cli, oned, tm: str, name: str = HOST, hid: int = 0) -> etree._Element:
    """``onehost create`` a host; wait until MONITORED; return its XML."""
    cli.run("onehost", "create", name, "im_kvm", "vmm_kvm", f"tm_{tm}")
    deadline = time.monotonic() + 60
    while True:
        host = cli.xml("onehost", str(hid))
        if host.findtext("STATE") == "2":  # MONITORED
            return host
        assert time.monotonic() < deadline, (etree.tostring(host), oned.log()[-3000:])
        time.sleep(0.5)


def ranged_vnet(cli: Cli, workdir: Path, bridge: str) -> None:
    """``onevnet create`` the ranged network ``e2e-net`` on ``bridge``."""
    net = workdir / "net.one"
    net.write_text(
        f'NAME = "e2e-net"\nTYPE = RANGED\nBRIDGE = "{bridge}"\n'
        'NETWORK_ADDRESS = "192.168.77.0"\nNETWORK_SIZE = "C"\n'
    )
    cli.run("onevnet", "create", str(net))


def guest_template(kit: GuestKit, workdir: Path, nic: bool = True) -> tuple[Path, Path]:
    """Write the test VM's template; return its path and the serial console log's."""
    disk = workdir / "data.img"
    disk.write_bytes(b"\0" * (1 << 20))
    disk.chmod(0o644)
    console = workdir / "console.log"
    serial = (
        f"<devices><serial type='file'><source path='{console}' append='on'/>"
        "<target port='0'/></serial></devices>"
    )
    template = workdir / "vm.one"
    template.write_text(
        'NAME = "e2e"\nCPU = 0.5\nMEMORY = 160\n'
        f'OS = [ KERNEL = "{kit.kernel}", INITRD = "{kit.initrd}", '
        'KERNEL_CMD = "console=ttyS0 quiet", ROOT = "hda" ]\n'
        f'DISK = [ SOURCE = "{disk}", TARGET = "hda", READONLY = "no" ]\n'
        + ('NIC = [ NETWORK = "e2e-net" ]\n' if nic else "")
        + 'CONTEXT = [ TESTVAR = "hello-$VMID", '
        + ('IP = "$NIC[IP, NETWORK=\\"e2e-net\\"]", ' if nic else "")
        + 'TARGET = "hdc" ]\n'
        f'RAW = [ TYPE = "kvm", DATA = "{serial}" ]\n'
    )
    return template, console


@pytest.fixture
def bridge():
    """A Linux bridge for the NICs (no uplink: the guest needs none)."""
    if not shutil.which("ip"):
        pytest.skip("ip (iproute2) not installed")
    name = scoped_name("br")
    made = subprocess.run(
        ["ip", "link", "add", "name", name, "type", "bridge"], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot create a bridge: {made.stderr.strip()}")
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    yield name
    subprocess.run(["ip", "link", "del", name], capture_output=True)


@pytest.fixture
def workdir(libvirt_guest: GuestKit):
    path = libvirt_guest.workdir("one-e2e-")
    yield Path(path)
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize("tm", ["ssh", "nfs"])
def test_a_guest_boots_reads_its_context_stops_resumes_and_shuts_down(
    tm, libvirt_guest, sshd, bridge, workdir, oned_factory
):
    kit = libvirt_guest
    location = workdir / "one"
    var = location / "var"
    # ssh: the host's VM_DIR is its own "local disk"; nfs: VM_DIR is oned's var (shared)
    vm_dir = workdir / "host-vms" if tm == "ssh" else var
    oned, cli = start_oned(oned_factory, sshd, kit, tm, location, vm_dir)
    host = monitored_host(cli, oned, tm)
    tpl = host.find("TEMPLATE")
    assert tpl.findtext("HYPERVISOR") == "kvm"
    assert int(tpl.findtext("TOTALCPU")) == os.cpu_count() * 100
    assert int(tpl.findtext("TOTALMEMORY")) == meminfo_total()
    ranged_vnet(cli, workdir, bridge)

    # -- the VM --------------------------------------------------------------------------
    template, console = guest_template(kit, workdir)
    cli.run("onevm", "create", str(template))
    vid = 0
    name = domain(vid)
    rdir = vm_dir / str(vid) / "images"
    try:
        cli.wait_vm(vid, (ACTIVE, RUNNING), oned)
        vm = cli.xml("onevm", str(vid))
        assert vm.findtext("DEPLOY_ID") == name
        ip = vm.findtext("TEMPLATE/NIC/IP")
        assert ip.startswith("192.168.77.")
        assert (rdir / "disk.0").stat().st_size == 1 << 20
        assert (rdir / "disk.1").exists()  # the context ISO
        domxml = virsh("dumpxml", name, check=True).stdout
        assert f"<source bridge='{bridge}'/>" in domxml

        # the guest booted and printed its context CD-ROM
        kit.wait_console(str(console), MARKER_UP)
        kit.wait_console(str(console), MARKER_CONTEXT_END, timeout=60)
        log = kit.console(str(console))
        context = log.split(MARKER_CONTEXT_BEGIN)[1].split(MARKER_CONTEXT_END)[0]
        assert f'TESTVAR="hello-{vid}"' in context
        assert f'IP="{ip}"' in context

        # stop: save + transfer back to the front-end
        cli.run("onevm", "stop", str(vid))
        cli.wait_vm(vid, (STOPPED, 0), oned)
        assert not kit.exists(name)
        if tm == "ssh":  # MV host:<rdir> front:VAR/<vid> (§4.2, §4.6)
            assert not rdir.exists()
            saved = var / str(vid) / "images"
        else:  # nfs: MV of a directory is a no-op (§4.5)
            saved = rdir
        assert (saved / "checkpoint").stat().st_size > 0
        assert (saved / "disk.0").exists()

        # resume: transfer back + restore
        cli.run("onevm", "resume", str(vid))
        cli.wait_vm(vid, (ACTIVE, RUNNING), oned)
        assert kit.exists(name)
        assert (rdir / "disk.0").exists()
        if tm == "ssh":
            assert not (var / str(vid) / "images").exists()
        assert "running" in virsh("domstate", name).stdout

        # shutdown: ACPI power button, epilog deletes the images on the host
        cli.run("onevm", "shutdown", str(vid))
        cli.wait_vm(vid, (DONE, 0), oned)
        assert not kit.exists(name)
        assert MARKER_POWEROFF in kit.console(str(console))
        assert not rdir.exists()
        listed = cli.run("onevm", "list").stdout
        assert "e2e" not in listed  # DONE VMs are not listed
        host = cli.xml("onehost", "0")
        assert host.findtext("HOST_SHARE/RUNNING_VMS") == "0"
    finally:
        kit.destroy(name)
        print(f"\n--- vm.log\n{vm_log(oned, vid)}")


def test_shell_syntax_in_a_disk_source_and_nic_attributes_never_runs(
    libvirt_guest, sshd, bridge, workdir, oned_factory
):
    """DISK SOURCE, NIC and CONTEXT values full of shell syntax go verbatim end to end.

    The disk file's very name is hostile; it is cloned over SSH to the host,
    then libvirt refuses the NIC model, the VM fails and its images are
    deleted. No ``touch`` ever runs: not on the front-end (oned's directory,
    the drivers' local commands), not in the SSH session on the host.
    """
    kit = libvirt_guest
    pwned = workdir / "PWNED"
    touch = f"touch${{IFS}}{pwned}"
    hostile = f";{touch};$({touch})`{touch}`'\"|{touch}&"
    plain = f";touch {pwned};`touch {pwned}`'\"|touch {pwned}&"
    source = workdir / f"d{hostile}" / "disk.img"  # the "/" of the touches make directories
    source.parent.mkdir(parents=True)
    source.write_bytes(b"\0" * 4096)
    location = workdir / "one"
    vm_dir = workdir / "host-vms"
    oned, cli = start_oned(oned_factory, sshd, kit, "ssh", location, vm_dir)
    monitored_host(cli, oned, "ssh")
    ranged_vnet(cli, workdir, bridge)

    def quoted(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"')

    template = workdir / "vm.one"
    template.write_text(
        'NAME = "evil"\nCPU = 0.1\nMEMORY = 64\n'
        f'OS = [ KERNEL = "{kit.kernel}", INITRD = "{kit.initrd}" ]\n'
        f'DISK = [ SOURCE = "{quoted(str(source))}", TARGET = "hda" ]\n'
        f'NIC = [ NETWORK = "e2e-net", MODEL = "{quoted("e1000" + hostile)}", '
        f'TARGET = "{quoted("vn" + hostile)}" ]\n'
        # no "$(" in CONTEXT: 1.4's variable parser rejects it and drops the whole CONTEXT
        f'CONTEXT = [ X = "{quoted(plain)}", TARGET = "hdc" ]\n'
    )
    cli.run("onevm", "create", str(template))
    vid = 0
    try:
        cli.wait_vm(vid, (FAILED, 0), oned, timeout=120)
        log = vm_log(oned, vid)
        # the prolog cloned the hostile file; the drivers' lines are in the VM's own log
        assert f"[TM][I]: tm_clone: Cloning {socket.gethostname()[:79]}:{source}" in log
        assert "[TM][I]: tm_context: Copying context image" in log
        assert "Model name contains invalid characters" in log  # libvirt got the value verbatim
        vm = cli.xml("onevm", str(vid))
        assert vm.findtext("TEMPLATE/DISK/SOURCE") == str(source)
        assert vm.findtext("TEMPLATE/NIC/MODEL") == "e1000" + hostile
    finally:
        kit.destroy(domain(vid))
    assert not pwned.exists(), log
    assert not (vm_dir / str(vid) / "images").exists()  # EPILOG_DELETE after the failure
    assert list(workdir.glob("**/PWNED")) == []
    assert not Path(os.path.expanduser("~/PWNED")).exists()


def test_a_real_live_migration_to_a_second_libvirt_host(
    libvirt_guest, sshd, second_host, workdir, oned_factory
):
    """``onevm livemigrate`` from this host's libvirtd to the one in namespaces (tm_nfs).

    ``virsh migrate --live`` runs on the source host over SSH and opens
    ``qemu+ssh://<second host>/system`` through the same test sshd keys.
    """
    kit = libvirt_guest
    ssh = workdir / "ssh"  # keeps ~/.ssh/known_hosts untouched
    ssh.write_text(
        "#!/bin/sh\nexec ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no "
        '-o LogLevel=ERROR "$@"\n'
    )
    ssh.chmod(0o755)
    uri = (
        f"qemu+ssh://{sshd.user}@{{host}}:{sshd.port}/system"
        f"?keyfile={sshd.key_filename}&command={ssh}&no_tty=1"
    )
    # libvirt takes only network file systems (or cache=none disks) for shared storage;
    # here both hosts share one local file system, so the hosts' virsh adds --unsafe
    virsh_unsafe = workdir / "virsh"
    virsh_unsafe.write_text(
        '#!/bin/sh\ncase " $* " in *" migrate "*) exec /usr/bin/virsh "$@" --unsafe ;; esac\n'
        'exec /usr/bin/virsh "$@"\n'
    )
    virsh_unsafe.chmod(0o755)
    location = workdir / "one"
    var = location / "var"
    extra = f', migrate_uri = "{uri}", virsh = "{virsh_unsafe}"'
    oned, cli = start_oned(oned_factory, sshd, kit, "nfs", location, var, extra_vmm=extra)
    monitored_host(cli, oned, "nfs")
    template, console = guest_template(kit, workdir, nic=False)
    cli.run("onevm", "create", str(template))
    vid, name = 0, domain(0)
    try:
        cli.wait_vm(vid, (ACTIVE, RUNNING), oned)
        # the second host only now, so that the scheduler put the VM on the first
        monitored_host(cli, oned, "nfs", second_host.address, hid=1)
        kit.wait_console(str(console), MARKER_CONTEXT_END)  # booted, acpid is up

        cli.run("onevm", "livemigrate", str(vid), "1")
        deadline = time.monotonic() + 120
        while cli.xml("onevm", str(vid)).findtext("HISTORY/HOSTNAME") != second_host.address:
            assert time.monotonic() < deadline, cli.run("onevm", "show", str(vid)).stdout
            time.sleep(0.5)
        cli.wait_vm(vid, (ACTIVE, RUNNING), oned)
        assert "running" in second_host.virsh("domstate", name).stdout, vm_log(oned, vid)
        assert not kit.exists(name)

        # the migrated guest still runs its acpid: a graceful shutdown on the second host
        cli.run("onevm", "shutdown", str(vid))
        cli.wait_vm(vid, (DONE, 0), oned)
        assert second_host.virsh("dominfo", name).returncode != 0
        assert MARKER_POWEROFF in kit.console(str(console))
        assert not (var / str(vid) / "images").exists()
    finally:
        kit.destroy(name)
        second_host.virsh("destroy", name)
