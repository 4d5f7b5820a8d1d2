"""The driver against a real libvirtd, over a real SSH connection on loopback.

Guests boot a Debian kernel with the busybox initrd of ``one_core.testing.guest``
under TCG (domain type ``qemu``: nested KVM hangs on these machines). One
full boot for the whole life cycle; the other tests do not wait for a boot.

A successful live migration needs two libvirt hosts with shared storage;
here one real ``virsh migrate --live`` goes over qemu+ssh to this host's own
libvirtd, which refuses it as the same host (the command line itself is in
``test_commands.py``).
"""

from __future__ import annotations

import os
import shutil
import time

import pytest
from one_driverkit.context_iso import prepare_context

from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.errors import DriverError
from one_core.records import VMRecord
from one_core.template import Template
from one_core.testing.guest import (
    MARKER_CONTEXT_BEGIN,
    MARKER_CONTEXT_END,
    MARKER_POWEROFF,
    MARKER_UP,
    GuestKit,
    virsh,
)
from one_core.testing.prefix import run_prefix

pytestmark = pytest.mark.timeout(600)

HOST = "127.0.0.1"
DOMAIN_PREFIX = f"{run_prefix()}-one-"
"""This run's ``DOMAIN_PREFIX``, so two test runs on one libvirtd never share a domain name."""


@pytest.fixture
def workdir(libvirt_guest: GuestKit):
    path = libvirt_guest.workdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_driver(libvirt_guest: GuestKit, sshd, workdir):
    """``make_driver(**section)`` → a loaded ``kvm`` driver reaching libvirtd through sshd."""
    pool = sshd.remote_pool(command_timeout=300)
    made = []

    def make(**section):
        config = {
            "TYPE": "kvm",
            "DOMAIN_TYPE": libvirt_guest.domain_type,
            "EMULATOR": libvirt_guest.emulator,
            "LIBVIRT_URI": libvirt_guest.uri,
            "SHUTDOWN_POLL": "0.5",
            "DOMAIN_PREFIX": DOMAIN_PREFIX,
            **section,
        }
        drivers = load_drivers_from_specs(
            [DriverSpec(role="vmm", name="kvm", driver="kvm", section=config)],
            var_dir=workdir,
            vm_dir=workdir,
            remote_factory=pool,
        )
        made.append(drivers)
        return drivers.get("vmm", "kvm")

    yield make
    pool.close()


_next_vid = [9000 + os.getpid() % 900 * 10]


def guest_vm(kit: GuestKit, vm_dir: str, *, acpi: str = "yes", context: bool = True):
    """A VM record booting the test kernel, console to ``<images>/console.log``."""
    _next_vid[0] += 1
    vid = _next_vid[0]
    record = VMRecord(
        vid=vid, uid=0, name="guest", host=HOST, vm_dir=vm_dir, template=Template.parse("CPU=1")
    )
    images = record.images_dir
    os.makedirs(images, exist_ok=True)
    os.chmod(images, 0o777)
    os.chmod(os.path.dirname(images), 0o777)
    console = f"{images}/console.log"
    t = record.template
    t.add("MEMORY", "192")
    t.add("OS", {"KERNEL": kit.kernel, "INITRD": kit.initrd, "KERNEL_CMD": "console=ttyS0 quiet"})
    t.add("FEATURES", {"ACPI": acpi})
    if context:
        ctx_vec = {"HOSTNAME": "guest-one", "IP_PUBLIC": "10.0.0.1", "TARGET": "hdc"}
        t.add("CONTEXT", ctx_vec)
        image = prepare_context(f"{vm_dir}/front/{vid}", ctx_vec)
        shutil.copy(image.iso, record.disk_path(0))  # no DISK: the ISO is disk.0
    serial = (
        f"<devices><serial type='file'><source path='{console}'/>"
        "<target port='0'/></serial></devices>"
    )
    t.add("RAW", {"TYPE": "kvm", "DATA": serial})
    return record, console


def deploy(driver, record: VMRecord) -> str:
    text = driver.call("vmm_deployment_file", vm=record)
    local = f"{record.vm_dir}/front/{record.vid}/deployment.0"
    os.makedirs(os.path.dirname(local), exist_ok=True)
    with open(local, "w", encoding="utf-8") as fh:
        fh.write(text)
    return driver.call(
        "vmm_deploy", vid=record.vid, host=HOST, deployment_file=local, deployment=text
    )


def poll(driver, record: VMRecord, deploy_id: str) -> dict[str, str]:
    return driver.call("vmm_poll", vid=record.vid, host=HOST, deploy_id=deploy_id)


def test_life_cycle_of_a_real_guest(libvirt_guest, make_driver, workdir):
    kit = libvirt_guest
    driver = make_driver(SHUTDOWN_TIMEOUT="120")
    record, console = guest_vm(kit, workdir)
    name = f"{DOMAIN_PREFIX}{record.vid}"
    timings = {}
    try:
        start = time.monotonic()
        assert deploy(driver, record) == name
        remote_file = f"{record.images_dir}/deployment.0"
        assert os.path.exists(remote_file)
        kit.wait_console(console, MARKER_UP)
        timings["boot"] = time.monotonic() - start
        kit.wait_console(console, MARKER_CONTEXT_END, timeout=30)
        log = kit.console(console)
        context = log.split(MARKER_CONTEXT_BEGIN)[1].split(MARKER_CONTEXT_END)[0]
        assert 'HOSTNAME="guest-one"' in context
        assert 'IP_PUBLIC="10.0.0.1"' in context

        info = poll(driver, record, name)
        assert info == {"STATE": "a", "USEDMEMORY": str(192 * 1024)}

        start = time.monotonic()
        driver.call(
            "vmm_save", vid=record.vid, host=HOST, deploy_id=name, checkpoint=record.checkpoint
        )
        timings["save"] = time.monotonic() - start
        assert os.path.getsize(record.checkpoint) > 0
        assert poll(driver, record, name) == {"STATE": "d"}

        start = time.monotonic()
        assert (
            driver.call(
                "vmm_restore",
                vid=record.vid,
                host=HOST,
                deploy_id=name,
                checkpoint=record.checkpoint,
            )
            is None
        )
        timings["restore"] = time.monotonic() - start
        assert poll(driver, record, name)["STATE"] == "a"

        start = time.monotonic()
        driver.call("vmm_shutdown", vid=record.vid, host=HOST, deploy_id=name)
        timings["shutdown"] = time.monotonic() - start
        assert not kit.exists(name)
        assert MARKER_POWEROFF in kit.console(console)  # the guest's acpid handled it
        assert poll(driver, record, name) == {"STATE": "d"}
        driver.call("vmm_cancel", vid=record.vid, host=HOST, deploy_id=name)  # idempotent
    finally:
        kit.destroy(name)
        print(f"\nreal guest timings (s): { {k: round(v, 1) for k, v in timings.items()} }")


def test_cancel_and_a_shutdown_that_times_out(libvirt_guest, make_driver, workdir):
    kit = libvirt_guest
    driver = make_driver(SHUTDOWN_TIMEOUT="3")
    record, _ = guest_vm(kit, workdir, acpi="no", context=False)
    name = deploy(driver, record)
    try:
        assert poll(driver, record, name)["STATE"] == "a"
        with pytest.raises(DriverError, match=f"Timeout reached: domain {name} still running"):
            driver.call("vmm_shutdown", vid=record.vid, host=HOST, deploy_id=name)
        assert kit.exists(name)
        driver.call("vmm_cancel", vid=record.vid, host=HOST, deploy_id=name)
        assert not kit.exists(name)
        assert poll(driver, record, name) == {"STATE": "d"}
        driver.call("vmm_cancel", vid=record.vid, host=HOST, deploy_id=name)
    finally:
        kit.destroy(name)


def test_restore_of_a_missing_checkpoint_fails(make_driver, workdir):
    driver = make_driver()
    with pytest.raises(DriverError, match="Failed to restore domain"):
        driver.call(
            "vmm_restore",
            vid=1,
            host=HOST,
            deploy_id="one-1",
            checkpoint=f"{workdir}/nothing/checkpoint",
        )


HOSTILE = [
    "one-1; touch {d}/PWNED",
    "one-1$(touch {d}/PWNED)`touch {d}/PWNED`",
    "one-1' ; touch {d}/PWNED ; echo '\" ; touch {d}/PWNED ; echo \"\ntouch {d}/PWNED",
]


CHECKPOINT = "ck; touch PWNED $(touch PWNED) `touch PWNED` '\""


def test_hostile_deploy_ids_reach_virsh_as_one_argument(make_driver, workdir):
    driver = make_driver()
    for hostile in HOSTILE:
        deploy_id = hostile.format(d=workdir)
        assert driver.call("vmm_poll", vid=1, host=HOST, deploy_id=deploy_id) == {"STATE": "d"}
        driver.call("vmm_cancel", vid=1, host=HOST, deploy_id=deploy_id)
        with pytest.raises(DriverError, match="failed to get domain"):
            driver.call(
                "vmm_save",
                vid=1,
                host=HOST,
                deploy_id=deploy_id,
                checkpoint=f"{workdir}/{CHECKPOINT}",
            )
        with pytest.raises(DriverError, match="failed to get domain"):
            driver.call(
                "vmm_migrate", vid=1, host=HOST, deploy_id=deploy_id, dest_host="h; touch PWNED"
            )
    assert not os.path.exists(f"{workdir}/PWNED")
    assert not os.path.exists(os.path.expanduser("~/PWNED"))  # the SSH session's directory
    assert os.path.exists(f"{workdir}/{CHECKPOINT}")  # touch made that very file


def test_hostile_paths_and_template_values(libvirt_guest, make_driver, workdir):
    """A VM_DIR and NIC/DISK values full of shell syntax: created verbatim, nothing runs."""
    driver = make_driver()
    vm_dir = f"{workdir}/v $(touch {workdir}/PWNED); `touch {workdir}/PWNED` '\""
    record = VMRecord(
        vid=77,
        uid=0,
        name="x",
        host=HOST,
        vm_dir=vm_dir,
        template=Template.parse(
            'MEMORY=64\nDISK=[SOURCE="/a; touch /tmp/PWNED", TARGET="hda\'; touch x"]\n'
            'NIC=[BRIDGE="br0$(touch x)", MAC="\'/><evil/>", SCRIPT="/s;reboot"]\n'
            'OS=[KERNEL="/k`id`", KERNEL_CMD="a=\\"b\\" & c < d"]'
        ),
    )
    text = driver.call("vmm_deployment_file", vm=record)
    assert "<evil" not in text and "&amp; c &lt; d" in text
    driver.ctx.vm_dir = vm_dir
    with pytest.raises(DriverError, match="unable to parse mac address ''/><evil/>'"):
        driver.call(
            "vmm_deploy",
            vid=77,
            host=HOST,
            deployment_file=f"{workdir}/deployment.0",
            deployment=text,
        )
    copied = f"{record.images_dir}/deployment.0"
    with open(copied, encoding="utf-8") as fh:
        assert fh.read() == text
    assert not os.path.exists(f"{workdir}/PWNED")
    assert virsh("dominfo", f"{DOMAIN_PREFIX}77").returncode != 0


def test_live_migration_reaches_the_destination_libvirtd(libvirt_guest, sshd, make_driver, workdir):
    """A real ``virsh migrate --live`` over qemu+ssh, refused by libvirt as the same host.

    Only one libvirtd runs here, so the destination is this host again: the
    command line, the URI template and the SSH transport to the destination's
    libvirtd are real; the success path needs a second host.
    """
    ssh = os.path.join(workdir, "ssh")
    with open(ssh, "w", encoding="utf-8") as fh:  # keeps ~/.ssh/known_hosts untouched
        fh.write(
            "#!/bin/sh\nexec ssh -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no "
            '-o LogLevel=ERROR "$@"\n'
        )
    os.chmod(ssh, 0o755)
    uri = (
        f"qemu+ssh://{sshd.user}@{{host}}:{sshd.port}/system"
        f"?keyfile={sshd.key_filename}&command={ssh}&no_tty=1"
    )
    driver = make_driver(MIGRATE_URI=uri)
    record, _ = guest_vm(libvirt_guest, workdir, context=False)
    name = deploy(driver, record)
    try:
        with pytest.raises(DriverError, match="Attempt to migrate guest to the same host"):
            driver.call("vmm_migrate", vid=record.vid, host=HOST, deploy_id=name, dest_host=HOST)
        assert poll(driver, record, name)["STATE"] == "a"
    finally:
        libvirt_guest.destroy(name)
