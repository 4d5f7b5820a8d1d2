"""A second libvirt host on this machine, for real live migrations.

A network namespace (own address ``10.231.<n>.2`` on a veth pair; namespace
and veth named after this run's prefix, ``<n>`` a subnet no interface uses) plus a
mount namespace in which ``/run`` is a fresh tmpfs and libvirt's state,
cache, log and configuration directories are bind-mounted from a temporary
directory: a second ``virtlogd`` + ``libvirtd`` run there with their own
sockets and their own ``host_uuid`` (libvirt refuses to migrate to a host with
its own UUID), and ``qemu.conf`` ``migration_host`` set to the namespace's
address (where the destination QEMU listens for the migration stream). A
second ``sshd`` (the test sshd's configuration and keys, same port) listens on
that address inside both namespaces, so ``virsh`` over SSH reaches the second
libvirtd. Everything else (``/var/tmp``, the kernel, the guest's disks) is
the same file system: the "shared storage" of a live migration.

Needs root, ``ip``, ``unshare`` and ``nsenter``; :func:`start_second_host`
raises :class:`Unavailable` with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
import zlib
from dataclasses import dataclass, field

from one_core.testing.prefix import run_prefix, scoped_name
from one_core.testing.process import stop_process

VIRSH = "/usr/bin/virsh"


class Unavailable(Exception):
    """The second host cannot be set up here (the message says why)."""


def _run(*argv: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise Unavailable(f"{' '.join(argv)}: {result.stderr.strip()}")


@dataclass
class SecondHost:
    """A running second libvirt host; ``address`` is its host name for oned."""

    address: str
    netns: str
    directory: str
    holder: subprocess.Popen
    daemons: list[subprocess.Popen] = field(default_factory=list)

    def inside(self, *argv: str) -> list[str]:
        """``argv`` run inside the host's network and mount namespaces."""
        return ["nsenter", "-t", str(self.holder.pid), "-m", "-n", *argv]

    def virsh(self, *args: str) -> subprocess.CompletedProcess:
        """``virsh -c qemu:///system ARGS`` against the second libvirtd."""
        return subprocess.run(
            self.inside(VIRSH, "-c", "qemu:///system", *args),
            capture_output=True,
            text=True,
            timeout=60,
        )

    def stop(self) -> None:
        """Stop the daemons and the namespaces (the guests of the second libvirtd die)."""
        for proc in [*reversed(self.daemons), self.holder]:
            stop_process(proc, 15)
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True)
        shutil.rmtree(self.directory, ignore_errors=True)


def _free_subnet() -> int:
    """A ``<n>`` for ``10.231.<n>.0/24`` that no interface of this machine uses yet.

    The search starts at a point derived from the run prefix, so two runs starting
    together try different subnets first.
    """
    shown = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True)
    start = zlib.crc32(run_prefix().encode()) % 230
    for step in range(230):
        n = (start + step) % 230 + 20
        if f" 10.231.{n}." not in shown.stdout:
            return n
    raise Unavailable("no free 10.231.<n>.0/24 subnet")


def _wait(check, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise Unavailable(f"{what} did not come up")


def start_second_host(sshd_config: str, sshd_port: int) -> SecondHost:
    """Start the second host; its sshd uses ``sshd_config`` on ``sshd_port``."""
    if os.geteuid() != 0:
        raise Unavailable("needs root (network and mount namespaces)")
    for tool in ("ip", "unshare", "nsenter"):
        if not shutil.which(tool):
            raise Unavailable(f"{tool} not installed")
    netns = veth = scoped_name("mig", limit=14)  # the veths are <veth>a and <veth>b
    subnet = f"10.231.{_free_subnet()}"
    directory = tempfile.mkdtemp(prefix="one-second-host-")
    _run("ip", "netns", "add", netns)
    holder = None
    try:
        _run("ip", "link", "add", f"{veth}a", "type", "veth", "peer", "name", f"{veth}b")
        _run("ip", "link", "set", f"{veth}b", "netns", netns)
        _run("ip", "addr", "add", f"{subnet}.1/24", "dev", f"{veth}a")
        _run("ip", "link", "set", f"{veth}a", "up")
        for args in (
            ("addr", "add", f"{subnet}.2/24", "dev", f"{veth}b"),
            ("link", "set", f"{veth}b", "up"),
            ("link", "set", "lo", "up"),
        ):
            _run("ip", "netns", "exec", netns, "ip", *args)
        etc = os.path.join(directory, "etc")
        shutil.copytree("/etc/libvirt", etc)
        with open(os.path.join(etc, "libvirtd.conf"), "a", encoding="utf-8") as fh:
            fh.write(f'\nhost_uuid = "{uuid.uuid4()}"\n')
        with open(os.path.join(etc, "qemu.conf"), "a", encoding="utf-8") as fh:
            fh.write(f'\nmigration_host = "{subnet}.2"\n')
        binds = {"etc": "/etc/libvirt"}
        for name, target in (
            ("lib", "/var/lib/libvirt"),
            ("cache", "/var/cache/libvirt"),
            ("log", "/var/log/libvirt"),
        ):
            os.makedirs(os.path.join(directory, name, "qemu"))
            binds[name] = target
        holder = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                netns,
                "unshare",
                "-m",
                "--propagation",
                "private",
                "sleep",
                "infinity",
            ],  # fmt: skip
            stdin=subprocess.DEVNULL,
        )
        host = SecondHost(f"{subnet}.2", netns, directory, holder)
        script = ["mount -t tmpfs tmpfs /run", "mkdir -p /run/libvirt /run/sshd"]
        script += [f"mount --bind {directory}/{src} {dst}" for src, dst in binds.items()]
        _wait(lambda: os.path.exists(f"/proc/{holder.pid}/ns/mnt"), "the namespace holder", 5)
        time.sleep(0.3)  # let unshare exec sleep (the holder pid is then in the new namespace)
        _run(*host.inside("sh", "-ec", "; ".join(script)))
        log = open(os.path.join(directory, "daemons.log"), "ab")  # noqa: SIM115
        for argv in (
            ["/usr/sbin/virtlogd"],
            ["/usr/sbin/libvirtd"],
            [
                "/usr/sbin/sshd",
                "-D",
                "-e",
                "-f",
                sshd_config,
                "-p",
                str(sshd_port),
                "-o",
                f"ListenAddress={subnet}.2",
                "-o",
                f"PidFile={directory}/sshd.pid",
            ],  # fmt: skip
        ):
            host.daemons.append(
                subprocess.Popen(
                    host.inside(*argv), stdout=log, stderr=log, stdin=subprocess.DEVNULL
                )
            )
        _wait(lambda: host.virsh("version").returncode == 0, "the second libvirtd")
        return host
    except BaseException:
        if holder is not None:
            SecondHost(f"{subnet}.2", netns, directory, holder, []).stop()
        else:
            subprocess.run(["ip", "netns", "del", netns], capture_output=True)
            shutil.rmtree(directory, ignore_errors=True)
        raise
