"""The ``nfs`` transfer driver: 1.4's ``tm_nfs`` scripts, without the shell.

``VM_DIR`` is shared between the front-end and the hosts (NFS), mounted on
the front-end as its var directory (``spec/lifecycle-and-drivers.md`` §4.5).
Everything runs **locally on the front-end**; the host parts of the
locations are ignored. Configuration (oned.conf ``TM_MAD`` section)::

    TM_MAD = [ name = "tm_nfs", executable = "one_tm", arguments = "tm_nfs/tm_nfs.conf",
               local_dir = "/var/lib/one" ]   # optional: where VM_DIR is mounted here

* Paths are *fixed* (1.4's ``fix_paths``): a path under ``VM_DIR`` is
  rewritten under the local directory (``LOCAL_DIR``, default oned's var
  directory), so the front-end reaches the shared files under its own
  mount point.
* CLONE copies (or downloads), LN makes a symbolic link to the source path
  as given (it must be valid on the hosts), MKSWAP/MKIMAGE make sparse
  images, DELETE is ``rm -rf``.
* MV of a directory is a no-op: stop, resume and migration move nothing on
  shared storage; only SAVE=yes disks (files) are moved.
* CONTEXT copies the ISO image the core built.

The file operations are the ``ssh`` driver's (:mod:`one_tm_ssh.ops`), run
on :class:`one_driverkit.remote.LocalHost`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_driverkit.remote import LocalHost, split_location
from one_tm_ssh import ops

from one_core.api import DriverError, hookimpl

if TYPE_CHECKING:
    from one_core.api import DriverContext


def local_dir(ctx: DriverContext) -> str:
    """Where the shared VM_DIR is mounted on the front-end (no trailing slash)."""
    for key, value in ctx.config.items():
        if str(key).upper() == "LOCAL_DIR" and str(value).strip():
            return str(value).strip().rstrip("/") or "/"
    return ctx.var_dir.rstrip("/") or "/"


def fix_path(ctx: DriverContext, path: str) -> str:
    """1.4's ``fix_paths``: ``VM_DIR`` at the start of ``path`` → the local directory.

    Only a leading ``VM_DIR`` ending at a path component is replaced (1.4
    replaced its first occurrence anywhere in the path).
    """
    vm_dir = (ctx.vm_dir or "").rstrip("/")
    if not vm_dir:
        return path
    if path == vm_dir or path.startswith(vm_dir + "/"):
        return local_dir(ctx) + path[len(vm_dir) :]
    return path


def _path(ctx: DriverContext, location: str, *, fix: bool = True) -> str:
    path = split_location(location)[1]
    return fix_path(ctx, path) if fix else path


def _front(ctx: DriverContext) -> LocalHost:
    return LocalHost(ctx.front or "localhost")


def _logger(ctx: DriverContext, vid: int, command: str):
    return lambda message: ctx.vm_log(vid, f"{command}: {message}")


# ---------------------------------------------------------------------------
# images in (prolog)
# ---------------------------------------------------------------------------


def _clone(ctx: DriverContext, vid: int, src: str, dst: str, command: str) -> None:
    host = _front(ctx)
    dst_path = ops.check_path(_path(ctx, dst))
    log = _logger(ctx, vid, command)
    ops.make_parent(host, dst_path, mode="a+w")
    if ops.is_url(src):
        log(f"Downloading {src}")
        ops.download(host, src, dst_path, mode="a+w")
    else:
        src_path = _path(ctx, src)
        log(f"Cloning {src_path}")
        ops.copy_file(host, src_path, host, dst_path, same_host=True, mode="a+w")


@hookimpl
def tm_clone(ctx: DriverContext, vid: int, src: str, dst: str, size: str | None) -> None:
    """CLONE: copy (or download) the image; the size is ignored, as in 1.4."""
    _clone(ctx, vid, src, dst, "tm_clone")


@hookimpl
def tm_ln(ctx: DriverContext, vid: int, src: str, dst: str, size: str | None) -> None:
    """LN: a symbolic link to the source path (not fixed: it must be valid on the hosts).

    A URL cannot be linked: it is downloaded, as CLONE does.
    """
    if ops.is_url(src):
        _clone(ctx, vid, src, dst, "tm_ln")
        return
    host = _front(ctx)
    dst_path = ops.check_path(_path(ctx, dst))
    src_path = _path(ctx, src, fix=False)
    if not src_path:
        raise DriverError(f"nothing to link in {src!r}")
    ctx.vm_log(vid, f"tm_ln: Linking {src_path} in {dst_path}")
    ops.make_parent(host, dst_path, mode="a+w")
    host.run(["ln", "-sfn", "--", src_path, dst_path])


@hookimpl
def tm_mkswap(ctx: DriverContext, vid: int, size: str, dst: str) -> None:
    """MKSWAP: a sparse file of ``size`` MB, ``mkswap``, ``chmod a+w``."""
    megabytes = ops.check_size(size)
    host = _front(ctx)
    path = ops.check_path(_path(ctx, dst))
    ctx.vm_log(vid, f"tm_mkswap: Creating {megabytes}Mb image in {path}")
    ops.make_parent(host, path, mode="a+w")
    ops.make_image(host, megabytes, path, ops.mkswap_command(path), "a+w")


@hookimpl
def tm_mkimage(ctx: DriverContext, vid: int, size: str, fstype: str, dst: str) -> None:
    """MKIMAGE: a sparse file of ``size`` MB, ``mkfs -t <fstype>``, ``chmod a+rw``."""
    megabytes = ops.check_size(size)
    fstype = ops.check_fstype(fstype)
    host = _front(ctx)
    path = ops.check_path(_path(ctx, dst))
    ctx.vm_log(vid, f"tm_mkimage: Creating {megabytes}Mb {fstype} image in {path}")
    ops.make_image(host, megabytes, path, ops.mkfs_command(fstype, path), "a+rw")


@hookimpl
def tm_context(ctx: DriverContext, vid: int, sources: list[str], dst: str, iso: str) -> None:
    """CONTEXT: copy the ISO image the core built to ``dst`` (or one built from ``sources``)."""
    host = _front(ctx)
    path = ops.check_path(_path(ctx, dst))
    ctx.vm_log(vid, f"tm_context: Copying context image to {path}")
    with ops.context_image(iso, sources) as image:
        ops.copy_file(host, image, host, path, same_host=True)


# ---------------------------------------------------------------------------
# images moved and removed
# ---------------------------------------------------------------------------


@hookimpl
def tm_mv(ctx: DriverContext, vid: int, src: str, dst: str) -> None:
    """MV: a no-op for a directory (shared storage); files (SAVE=yes disks) are moved."""
    host = _front(ctx)
    src_path = ops.check_path(_path(ctx, src))
    dst_path = ops.check_path(_path(ctx, dst))
    log = _logger(ctx, vid, "tm_mv")
    if src_path == dst_path:
        log("Will not move, source and destination are equal")
        return
    if ops.is_dir(host, src_path):
        log("Will not move, is not saving image")
        return
    log(f"Moving {src_path} to {dst_path}")
    ops.move(host, src_path, host, dst_path, same_host=True, log=log)


@hookimpl
def tm_delete(ctx: DriverContext, vid: int, path: str) -> None:
    """DELETE: ``rm -rf`` the fixed path; a path that is already gone is fine."""
    local = _path(ctx, path)
    ctx.vm_log(vid, f"tm_delete: Deleting {local}")
    ops.delete(_front(ctx), local)
