"""Real KVM/QEMU guests for tests: libvirtd, a Debian kernel and a tiny busybox initrd.

The ``one_core.testing`` pytest plugin registers the fixture; a test just asks
for ``libvirt_guest`` (and imports the markers and helpers from
``one_core.testing.guest``). The session fixture ``libvirt_guest`` yields a :class:`GuestKit`:

* makes sure the Debian packages are there (installs them with ``apt-get``
  when running as root and they are missing; see :data:`DEBIAN_PACKAGES`),
* starts ``virtlogd -d`` and ``libvirtd -d`` unless already running,
* builds once, and caches under ``/var/tmp/one-test-guest/<kernel version>/``,
  an initrd with a static busybox and an ``/init`` that

  1. loads the CD-ROM modules (``scsi_common scsi_mod libata ata_piix cdrom
     sr_mod isofs``) and the ACPI power button ones (``button evdev``),
  2. prints :data:`MARKER_UP` to the serial console,
  3. mounts ``/dev/sr0`` if there is one and prints ``context.sh`` between
     :data:`MARKER_CONTEXT_BEGIN` and :data:`MARKER_CONTEXT_END`,
  4. starts busybox ``acpid``: the ACPI power button (``virsh shutdown``)
     prints :data:`MARKER_POWEROFF` and powers the guest off,
  5. sleeps forever.

The cache is under ``/var/tmp`` (not ``~/.cache``) because libvirt's QEMU
runs as ``libvirt-qemu`` and must be able to read the kernel and initrd;
:meth:`GuestKit.workdir` makes world-traversable directories for the same
reason. Tests skip with a clear reason when libvirtd, the kernel or busybox
cannot be had.
"""

from __future__ import annotations

import glob
import gzip
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

DEBIAN_PACKAGES = (
    "libvirt-daemon-system",
    "libvirt-clients",
    "qemu-system-x86",
    "busybox-static",
    "linux-image-amd64",
)
"""What a host needs for the real-guest tests (``apt-get install --no-install-recommends``)."""

LIBVIRTD = "/usr/sbin/libvirtd"
VIRTLOGD = "/usr/sbin/virtlogd"
VIRSH = "/usr/bin/virsh"
BUSYBOX = "/bin/busybox"
QEMU = "/usr/bin/qemu-system-x86_64"
URI = "qemu:///system"
CACHE_ROOT = "/var/tmp/one-test-guest"

MODULES = (
    "scsi_common",
    "scsi_mod",
    "libata",
    "ata_piix",
    "cdrom",
    "sr_mod",
    "isofs",
    "button",
    "evdev",
)
"""Kernel modules of the initrd, in load order (CD-ROM path, then the ACPI power button)."""

MARKER_UP = "ONE-TEST-GUEST-UP"
MARKER_CONTEXT_BEGIN = "ONE-TEST-GUEST-CONTEXT-BEGIN"
MARKER_CONTEXT_END = "ONE-TEST-GUEST-CONTEXT-END"
MARKER_NO_CONTEXT = "ONE-TEST-GUEST-NO-CONTEXT"
MARKER_POWEROFF = "ONE-TEST-GUEST-POWEROFF"
INITRD_VERSION = "2"
"""Bumped when the initrd's content changes, so stale caches are rebuilt."""

INIT_SCRIPT = f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in {" ".join(MODULES)}; do
    insmod /lib/modules/$m.ko 2>/dev/null
done
echo {MARKER_UP}
sleep 1
if [ -b /dev/sr0 ] && mount -t iso9660 -o ro /dev/sr0 /mnt; then
    echo {MARKER_CONTEXT_BEGIN}
    cat /mnt/context.sh
    echo {MARKER_CONTEXT_END}
else
    echo {MARKER_NO_CONTEXT}
fi
mkdir -p /etc/acpi/PWRF
printf '#!/bin/sh\\necho {MARKER_POWEROFF} >/dev/console\\nsync\\npoweroff -f\\n' > /etc/acpi/PWRF/00000080
chmod 755 /etc/acpi/PWRF/00000080
acpid -c /etc/acpi -l /dev/null
while true; do sleep 3600; done
"""


def kernel_version() -> str | None:
    """The newest kernel in ``/boot`` that has its modules installed, or ``None``."""
    versions = []
    for path in glob.glob("/boot/vmlinuz-*"):
        version = os.path.basename(path).removeprefix("vmlinuz-")
        if os.path.isdir(f"/lib/modules/{version}"):
            versions.append(version)
    return sorted(versions)[-1] if versions else None


def _find_module(version: str, name: str) -> str:
    matches = glob.glob(f"/lib/modules/{version}/kernel/**/{name}.ko", recursive=True)
    if not matches:
        raise FileNotFoundError(f"kernel module {name}.ko not found for {version}")
    return matches[0]


def build_initrd(version: str, path: str) -> str:
    """Write the test initrd (gzip'ed ``newc`` cpio) for kernel ``version`` to ``path``."""
    staging = tempfile.mkdtemp(prefix="one-initrd-")
    try:
        for sub in ("bin", "dev", "proc", "sys", "mnt", "etc", "lib/modules", "tmp", "run"):
            os.makedirs(os.path.join(staging, sub), exist_ok=True)
        shutil.copy(BUSYBOX, os.path.join(staging, "bin", "busybox"))
        os.symlink("busybox", os.path.join(staging, "bin", "sh"))
        for name in MODULES:
            shutil.copy(_find_module(version, name), os.path.join(staging, "lib/modules"))
        init = os.path.join(staging, "init")
        with open(init, "w", encoding="utf-8") as fh:
            fh.write(INIT_SCRIPT)
        os.chmod(init, 0o755)
        listing = subprocess.run(["find", "."], cwd=staging, check=True, capture_output=True).stdout
        cpio = subprocess.run(
            ["cpio", "-o", "-H", "newc", "--quiet"],
            cwd=staging,
            input=listing,
            check=True,
            capture_output=True,
        ).stdout
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with gzip.open(tmp, "wb") as fh:
        fh.write(cpio)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


def _missing_packages() -> list[str]:
    missing = []
    for exe, package in (
        (LIBVIRTD, "libvirt-daemon-system"),
        (VIRSH, "libvirt-clients"),
        (QEMU, "qemu-system-x86"),
        (BUSYBOX, "busybox-static"),
    ):
        if not os.path.exists(exe):
            missing.append(package)
    if kernel_version() is None:
        missing.append("linux-image-amd64")
    return missing


def ensure_packages() -> str | None:
    """Install missing packages when root; return a skip reason, or ``None`` when all is there."""
    missing = _missing_packages()
    if not missing:
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return f"missing Debian packages: {' '.join(missing)} (not root, cannot install)"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    wait = ["-o", "DPkg::Lock::Timeout=900"]  # another test run may be installing
    install = ["apt-get", *wait, "install", "-y", "-q", "--no-install-recommends", *DEBIAN_PACKAGES]
    result = subprocess.run(install, env=env, capture_output=True, text=True)
    if result.returncode != 0:  # stale or empty package lists: update once and retry
        subprocess.run(["apt-get", *wait, "update", "-q"], env=env, capture_output=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
    missing = _missing_packages()
    if missing:
        tail = " ".join(result.stderr.split()[-30:])
        return f"could not install {' '.join(missing)}: {tail}"
    return None


def _running(name: str) -> bool:
    return subprocess.run(["pgrep", "-x", name], capture_output=True).returncode == 0


def virsh(*args: str, check: bool = False) -> subprocess.CompletedProcess:
    """Run ``virsh -c qemu:///system ARGS`` locally (for test set-up and assertions)."""
    return subprocess.run(
        [VIRSH, "-c", URI, *args], capture_output=True, text=True, check=check, timeout=120
    )


def ensure_daemons() -> str | None:
    """Start virtlogd and libvirtd if needed; return a skip reason or ``None``."""
    for name, exe in (("virtlogd", VIRTLOGD), ("libvirtd", LIBVIRTD)):
        if not _running(name):
            subprocess.run([exe, "-d"], capture_output=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if virsh("version").returncode == 0:
            return None
        time.sleep(0.5)
    return f"libvirtd does not answer on {URI}: {virsh('version').stderr.strip()}"


@dataclass
class GuestKit:
    """What a real-guest test needs: kernel, initrd, libvirt URI, helpers."""

    kernel: str
    initrd: str
    kernel_version: str
    uri: str = URI
    emulator: str = QEMU
    domain_type: str = "qemu"

    def workdir(self, prefix: str = "one-guest-") -> str:
        """A fresh directory QEMU (user ``libvirt-qemu``) can reach; the caller removes it."""
        os.makedirs(CACHE_ROOT, exist_ok=True)
        os.chmod(CACHE_ROOT, 0o755)
        path = tempfile.mkdtemp(prefix=prefix, dir=CACHE_ROOT)
        os.chmod(path, 0o777)
        return path

    @staticmethod
    def console(path: str) -> str:
        """The serial console log so far ('' before QEMU created it)."""
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except (FileNotFoundError, PermissionError):
            return ""

    def wait_console(self, path: str, marker: str, timeout: float = 120.0) -> float:
        """Wait until ``marker`` shows on the console; return the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if marker in self.console(path):
                return time.monotonic() - start
            time.sleep(0.2)
        raise AssertionError(
            f"{marker!r} not on the console after {timeout:.0f} s:\n{self.console(path)[-3000:]}"
        )

    @staticmethod
    def destroy(name: str) -> None:
        """Destroy a domain if it exists (test clean-up)."""
        virsh("destroy", name)

    @staticmethod
    def exists(name: str) -> bool:
        return virsh("dominfo", name).returncode == 0


def prepare() -> GuestKit | str:
    """Everything a guest needs, or a skip reason."""
    reason = ensure_packages() or ensure_daemons()
    if reason:
        return reason
    version = kernel_version()
    if version is None:
        return "no kernel with modules in /boot (apt-get install linux-image-amd64)"
    cache = os.path.join(CACHE_ROOT, version)
    os.makedirs(cache, exist_ok=True)
    for path in (CACHE_ROOT, cache):
        os.chmod(path, os.stat(path).st_mode | stat.S_IRWXU | 0o055)
    initrd = os.path.join(cache, f"initrd-{INITRD_VERSION}.gz")
    if not os.path.exists(initrd):
        try:
            build_initrd(version, initrd)
        except (OSError, subprocess.CalledProcessError) as exc:
            return f"cannot build the test initrd: {exc}"
    kernel = os.path.join(cache, "vmlinuz")
    if not os.path.exists(kernel):  # a readable copy: /boot/vmlinuz-* is 0600 on some hosts
        tmp = f"{kernel}.tmp{os.getpid()}"  # another test run may be copying it too
        shutil.copy(f"/boot/vmlinuz-{version}", tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, kernel)
    return GuestKit(kernel=kernel, initrd=initrd, kernel_version=version)


@pytest.fixture(scope="session")
def libvirt_guest() -> Iterator[GuestKit]:
    """A running libvirtd plus a kernel and initrd for direct-kernel-boot guests (see module)."""
    if os.uname().machine != "x86_64":
        pytest.skip("the real-guest tests need an x86_64 host")
    kit = prepare()
    if isinstance(kit, str):
        pytest.skip(kit)
    yield kit
