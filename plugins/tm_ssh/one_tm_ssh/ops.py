"""File operations on hosts, the building blocks of the transfer commands.

Every function takes *hosts*: objects with the interface of
:class:`one_driverkit.remote.RemoteHost` (``run(argv)``, ``pipe(argv, stdin=,
stdout=)``), so the same code works over SSH and on the front-end itself
(:class:`one_driverkit.remote.LocalHost`). Every command is an argument list; a
value from a template is never part of a shell command line. The few
``sh -c`` scripts below are constants that take their values as positional
parameters (``"$1"``).

Data between two different hosts is relayed through the front-end: the
source host writes to its standard output, the destination host reads its
standard input, and this process copies the bytes across (no host-to-host
SSH trust is needed, see ``docs/decisions/kvm-transfer.md``).

Also used by the ``nfs`` transfer driver (one-tm-nfs), with local hosts only.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, BinaryIO, Protocol

from one_driverkit import context_iso
from one_driverkit.remote import RunResult, write_command

from one_core.api import ContextError, DriverError

"""Sources downloaded on the destination host instead of copied (1.4: ``http://`` only)."""

MAKE_IMAGE = """set -e
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
mkdir -p -- "$(dirname -- "$1")"
rm -f -- "$1"
dd if=/dev/zero of="$1" bs=1M count=0 seek="$2"
path=$1 mode=$3
shift 3
"$@"
chmod "$mode" -- "$path"
"""
"""Sparse file ``$1`` of ``$2`` MB, formatted by the command ``$4...``, then ``chmod $3``.
``mkswap`` and ``mkfs`` live in ``/sbin``, often not in a non-root user's ``PATH``."""

_FSTYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\Z")

DOWNLOAD = """mkdir -p -- "$(dirname -- "$2")"
if command -v wget >/dev/null 2>&1; then
    wget -q -O "$2.one-part" -- "$1"
else
    curl -fsSL -o "$2.one-part" -- "$1"
fi || { rc=$?; rm -f -- "$2.one-part"; exit $rc; }
mv -f -- "$2.one-part" "$2"
if [ -n "$3" ]; then chmod "$3" -- "$2"; fi
"""
"""Fetch URL ``$1`` into ``$2`` (creating its directory) with wget, or curl when wget is
missing; then ``chmod $3`` when given. A failed download leaves nothing."""

COPY = 'mkdir -p -- "$(dirname -- "$2")" && cp -- "$1" "$2"'
"""Copy ``$1`` to ``$2`` on one host, creating the directory of ``$2``."""

FINISH_COPY = 'mv -f -- "$1" "$2" && if [ -n "$3" ]; then chmod "$3" -- "$2"; fi'
"""Rename the finished copy ``$1`` to ``$2`` and set its mode ``$3`` (when given)."""

PREPARE_MOVE = (
    'mkdir -p -- "$1" && if [ -d "$2" ]; then echo D; else echo F; fi'
    ' && mktemp -d -- "$1/.one-mv.XXXXXX"'
)
"""On the destination: create ``$1`` (the parent of ``$2``), say whether ``$2`` is a
directory (``D``/``F``), then print a new scratch directory in ``$1``."""

REPLACE = 'rm -rf -- "$2" && mv -- "$1" "$2" && rmdir -- "$3"'
"""Put the freshly received ``$1`` at ``$2`` (replacing it) and drop the scratch dir ``$3``."""


class Host(Protocol):
    """What the operations need from a host (RemoteHost and LocalHost have it)."""

    name: str

    def run(
        self, argv: Sequence[str], *, timeout: float | None = ..., check: bool = ...
    ) -> Any: ...

    def pipe(
        self,
        argv: Sequence[str],
        *,
        stdin: BinaryIO | None = ...,
        stdout: BinaryIO | None = ...,
        timeout: float | None = ...,
        check: bool = ...,
    ) -> Any: ...


# ---------------------------------------------------------------------------
# checks on the arguments
# ---------------------------------------------------------------------------


is_url = context_iso.is_url
"""Whether a source is downloaded rather than copied (the driver kit's rule)."""


def check_size(size: str) -> int:
    """The ``SIZE`` of an image in MB, as a positive integer, or :class:`DriverError`."""
    text = str(size).strip()
    if not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise DriverError(f"invalid image size {size!r}: a positive number of MB is required")
    return int(text)


def check_fstype(fstype: str) -> str:
    """A file system type for ``mkfs -t``, or :class:`DriverError`."""
    if not _FSTYPE.match(fstype or ""):
        raise DriverError(f"invalid file system type {fstype!r}")
    return fstype


def check_path(path: str) -> str:
    """An absolute path that is not ``/``, or :class:`DriverError` (nothing is written elsewhere)."""
    if not path.startswith("/") or posixpath.normpath(path) in ("/", "//"):
        raise DriverError(f"refusing to work on path {path!r}: an absolute path is required")
    return path


def parent(path: str) -> str:
    """The directory holding ``path``."""
    return posixpath.dirname(posixpath.normpath(path))


def base(path: str) -> str:
    """The last component of ``path``."""
    return posixpath.basename(posixpath.normpath(path))


# ---------------------------------------------------------------------------
# single-host operations
# ---------------------------------------------------------------------------


def exists(host: Host, path: str) -> bool:
    """Whether ``path`` exists on ``host`` (a dangling link counts)."""
    result = host.run(["sh", "-c", 'test -e "$1" || test -L "$1"', "sh", path], check=False)
    return result.exit_code == 0


def is_dir(host: Host, path: str) -> bool:
    """Whether ``path`` is a directory on ``host``."""
    return host.run(["test", "-d", path], check=False).exit_code == 0


def make_parent(host: Host, path: str, *, mode: str | None = None) -> None:
    """``mkdir -p`` the directory holding ``path`` (and ``chmod`` it when ``mode`` is given)."""
    directory = parent(path)
    host.run(["mkdir", "-p", "--", directory])
    if mode:
        host.run(["chmod", mode, "--", directory])


def delete(host: Host, path: str) -> None:
    """``rm -rf`` ``path``; succeeds when it is already gone."""
    check_path(path)
    host.run(["rm", "-rf", "--", path])


def download(host: Host, url: str, dst: str, *, mode: str = "") -> None:
    """Fetch ``url`` into ``dst`` on ``host`` (one command, :data:`DOWNLOAD`)."""
    host.run(["sh", "-c", DOWNLOAD, "sh", url, dst, mode])


def make_image(host: Host, size: int, dst: str, command: list[str], mode: str) -> RunResult:
    """A sparse file of exactly ``size`` MB at ``dst``, formatted by ``command``, then ``chmod``.

    One command on the host (:data:`MAKE_IMAGE`). 1.4: ``mkdir -p``,
    ``dd ... seek=<size>M``, ``/sbin/mkswap`` or ``mkfs``, ``chmod``.
    """
    return host.run(["sh", "-c", MAKE_IMAGE, "sh", dst, str(size), mode, *command])


def mkswap_command(dst: str) -> list[str]:
    return ["mkswap", dst]


def mkfs_command(fstype: str, dst: str) -> list[str]:
    """``mkfs -t <fstype>``; ``-F`` (force, on a regular file) only for the ext family.

    1.4 passed ``-F`` whatever the type, which other ``mkfs`` programs read
    differently (``mkfs.vfat -F`` takes the FAT size).
    """
    force = ["-F"] if fstype.lower().startswith("ext") else []
    return ["mkfs", "-t", fstype, *force, dst]


# ---------------------------------------------------------------------------
# between two hosts
# ---------------------------------------------------------------------------


def relay(src: Host, src_argv: list[str], dst: Host, dst_argv: list[str]) -> None:
    """Run ``src_argv`` on ``src`` with its output piped into ``dst_argv`` on ``dst``.

    A failure of the producer's command wins (it explains the consumer's
    truncated input), unless the producer only lost its consumer.
    """
    read_fd, write_fd = os.pipe()
    reader = os.fdopen(read_fd, "rb")
    writer = os.fdopen(write_fd, "wb")
    produced: list[BaseException] = []

    def produce() -> None:
        try:
            src.pipe(src_argv, stdout=writer)
        except BaseException as exc:
            produced.append(exc)
        finally:
            with contextlib.suppress(OSError):
                writer.close()

    thread = threading.Thread(target=produce, name=f"relay-{src.name}", daemon=True)
    thread.start()
    consumed: DriverError | None = None
    try:
        dst.pipe(dst_argv, stdin=reader)
    except DriverError as exc:
        consumed = exc
    finally:
        reader.close()
        thread.join()
    if produced:
        failure = produced[0]
        # a producer cut off by its dead consumer (broken pipe, no exit code) explains nothing
        if consumed is not None and getattr(failure, "exit_code", 0) is None:
            raise consumed
        raise failure
    if consumed is not None:
        raise consumed


def copy_file(
    src: Host,
    src_path: str,
    dst: Host,
    dst_path: str,
    *,
    same_host: bool,
    mode: str = "",
) -> None:
    """Copy the contents of a file (or block device) to ``dst_path``, creating its directory.

    Written to ``<dst_path>.one-part`` first and renamed at the end (then
    ``chmod``-ed to ``mode`` when given), so a failed copy never leaves a
    truncated image under the final name.
    """
    check_path(dst_path)
    part = dst_path + ".one-part"
    try:
        if same_host:
            dst.run(["sh", "-c", COPY, "sh", src_path, part])
        else:
            relay(src, ["cat", "--", src_path], dst, write_command(part))
        dst.run(["sh", "-c", FINISH_COPY, "sh", part, dst_path, mode])
    except DriverError:
        dst.run(["rm", "-f", "--", part], check=False)
        raise


def move_target(dst: Host, src_path: str, dst_path: str) -> str:
    """Where a move of ``src_path`` to ``dst_path`` puts it.

    Like ``scp -r``: into ``dst_path`` when that is an existing directory,
    else at ``dst_path`` itself. Except when both have the same last
    component (``.../images`` to ``.../images``): then ``dst_path`` is
    replaced, so a repeated resume or migration never nests ``images/images``.
    """
    if base(src_path) != base(dst_path) and is_dir(dst, dst_path):
        return posixpath.join(dst_path, base(src_path))
    return dst_path


def _already_moved(src: Host, src_path: str, dst: Host, dst_path: str, say: Any) -> None:
    """A missing source is fine when the destination exists (a repeated move)."""
    if exists(dst, dst_path):
        say(f"{src_path} is gone and {dst_path} exists: already moved")
        return
    raise DriverError(f"{src.name}: cannot move {src_path}: no such file or directory")


def move(
    src: Host,
    src_path: str,
    dst: Host,
    dst_path: str,
    *,
    same_host: bool,
    log: Any = None,
) -> None:
    """Move a file or directory tree, within one host or between two.

    Between hosts the tree goes as a sparse-aware ``tar`` stream into a
    scratch directory next to the target, which then replaces the target;
    the source is removed last. A source that is gone while the destination
    exists counts as already moved (recovery may repeat the command).
    """
    check_path(src_path)
    check_path(dst_path)
    say = log or (lambda message: None)
    if same_host and posixpath.normpath(src_path) == posixpath.normpath(dst_path):
        say("Will not move, source and destination are equal")
        return
    if same_host:
        if not exists(src, src_path):
            _already_moved(src, src_path, dst, dst_path, say)
            return
        dst.run(["mkdir", "-p", "--", parent(dst_path)])
        target = move_target(dst, src_path, dst_path)
        dst.run(["rm", "-rf", "--", target])
        dst.run(["mv", "--", src_path, target])
        return
    answer = dst.run(["sh", "-c", PREPARE_MOVE, "sh", parent(dst_path), dst_path]).stdout
    scratch = answer[2:].rstrip("\n")
    into = answer[:1] == "D" and base(src_path) != base(dst_path)
    target = posixpath.join(dst_path, base(src_path)) if into else dst_path
    try:
        relay(
            src,
            ["tar", "-C", parent(src_path), "-cSf", "-", "./" + base(src_path)],
            dst,
            ["tar", "-C", scratch, "-xf", "-"],
        )
    except DriverError:
        dst.run(["rm", "-rf", "--", scratch], check=False)
        if not exists(src, src_path):  # nothing to send: maybe moved already
            _already_moved(src, src_path, dst, dst_path, say)
            return
        raise
    try:
        dst.run(["sh", "-c", REPLACE, "sh", f"{scratch}/{base(src_path)}", target, scratch])
    except DriverError:
        dst.run(["rm", "-rf", "--", scratch], check=False)
        raise
    src.run(["rm", "-rf", "--", src_path])


# ---------------------------------------------------------------------------
# context image
# ---------------------------------------------------------------------------


@contextmanager
def context_image(iso: str, sources: list[str]) -> Iterator[str]:
    """The context ISO to copy: ``iso`` when given, else one built from ``sources``.

    ``sources`` are ``tm_context``'s (``context.sh`` then the ``FILES``:
    front-end paths or URLs); the image is made with the driver kit's
    :func:`one_driverkit.context_iso.context_image` in a temporary directory
    removed afterwards. Its failures are :class:`DriverError`.
    """
    try:
        with context_iso.context_image(iso, sources) as image:
            yield image
    except ContextError as exc:
        raise DriverError(str(exc)) from exc
