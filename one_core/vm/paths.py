"""Where a VM's files live (``spec/lifecycle-and-drivers.md`` §2.3): the one place that says so.

Local paths are on the front-end under oned's var directory (1.4's ``VAR``);
remote paths are on the host under the history record's ``VM_DIR``
(``<VM_DIR>/<vid>/images/disk.<i>``...). The engine (:class:`VMPaths`), the
drivers' :class:`~one_core.records.VMRecord` and the driver kit all use the
``remote_*`` functions below. :func:`write_local` writes a front-end file (transfer
scripts, deployment files) with the fewest system calls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

TRANSFER_SUFFIXES: tuple[str, ...] = (
    "prolog",
    "migrate",
    "resume",
    "epilog",
    "stop",
    "delete",
    "delete_prev",
)

FILE_MODE = 0o666
"""Mode of the files oned writes (as ``open()``'s: the umask decides)."""

APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND
TRUNCATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC


# Files of a VM's front-end directory are written with os.open/os.write/os.close: a
# buffered open() adds an fstat, an isatty ioctl and two lseeks per file, and a
# makedirs per write adds a stat and a failing mkdir; every system call releases and
# re-takes the GIL, a hand-off between oned's threads when they compete (issue 19).


def make_dir(path: str) -> None:
    """Create directory ``path`` (and its parents if missing); one ``mkdir`` usually."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)


def open_creating_dir(path: str, flags: int) -> int:
    """``os.open(path, flags)``, creating the file's directory only when it is missing
    (one ``openat`` when the directory exists, the usual case)."""
    try:
        return os.open(path, flags, FILE_MODE)
    except FileNotFoundError:
        make_dir(os.path.dirname(path))
        return os.open(path, flags, FILE_MODE)


def write_fd(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_local(path: str, text: str, *, append: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path``, truncating it or appending to it; the
    directory is created when missing. Same bytes as a text ``open()``, three system
    calls (open, write, close)."""
    fd = open_creating_dir(path, APPEND if append else TRUNCATE)
    try:
        write_fd(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def remote_images_dir(vm_dir: str, vid: int) -> str:
    """``<vm_dir>/<vid>/images`` (1.4's ``rdir``; the ``//`` of a trailing slash is dropped)."""
    return f"{vm_dir.rstrip('/')}/{int(vid)}/images"


def remote_disk(vm_dir: str, vid: int, index: int) -> str:
    """Disk ``index`` of the VM on the host: ``<vm_dir>/<vid>/images/disk.<index>``."""
    return f"{remote_images_dir(vm_dir, vid)}/disk.{int(index)}"


def remote_checkpoint(vm_dir: str, vid: int) -> str:
    """The saved memory of a stopped/suspended VM: ``<vm_dir>/<vid>/images/checkpoint``."""
    return f"{remote_images_dir(vm_dir, vid)}/checkpoint"


def remote_deployment_file(vm_dir: str, vid: int, seq: int) -> str:
    """The deployment file on the host: ``<vm_dir>/<vid>/images/deployment.<seq>``."""
    return f"{remote_images_dir(vm_dir, vid)}/deployment.{int(seq)}"


@dataclass(frozen=True, slots=True)
class VMPaths:
    """The paths of VM ``vid`` for history record ``seq`` kept in ``vm_dir``."""

    var_dir: str
    vid: int
    seq: int = 0
    vm_dir: str = ""

    # -- front-end -------------------------------------------------------
    @property
    def local_dir(self) -> str:
        """``VAR<vid>``: deployment files, transfer scripts, context, vm.log."""
        return os.path.join(self.var_dir, str(self.vid))

    @property
    def deployment_file(self) -> str:
        return os.path.join(self.local_dir, f"deployment.{self.seq}")

    def transfer_file(self, suffix: str) -> str:
        if suffix not in TRANSFER_SUFFIXES:
            raise ValueError(f"unknown transfer script suffix {suffix!r}")
        return os.path.join(self.local_dir, f"transfer.{self.seq}.{suffix}")

    @property
    def context_file(self) -> str:
        return os.path.join(self.local_dir, "context.sh")

    @property
    def vm_log(self) -> str:
        return os.path.join(self.local_dir, "vm.log")

    @property
    def local_images_dir(self) -> str:
        """Images of a STOPPED VM on the front-end (``VAR<vid>/images``)."""
        return os.path.join(self.local_dir, "images")

    def saved_disk(self, index: int) -> str:
        """A ``SAVE = yes`` disk kept on the front-end after shutdown."""
        return os.path.join(self.local_dir, f"disk.{index}")

    # -- host ------------------------------------------------------------
    @property
    def _host_vm_dir(self) -> str:
        """The history's ``VM_DIR``, else the var directory (no history yet)."""
        return self.vm_dir or self.var_dir

    @property
    def rdir(self) -> str:
        return remote_images_dir(self._host_vm_dir, self.vid)

    @property
    def checkpoint(self) -> str:
        return remote_checkpoint(self._host_vm_dir, self.vid)

    @property
    def remote_deployment_file(self) -> str:
        return remote_deployment_file(self._host_vm_dir, self.vid, self.seq)

    def disk(self, index: int) -> str:
        return remote_disk(self._host_vm_dir, self.vid, index)
