"""The ``ssh`` transfer driver: 1.4's ``tm_ssh`` scripts, without the shell.

The images of a VM live on its host's local disk (``spec/lifecycle-and-drivers.md``
§4.6). Configuration (oned.conf ``TM_MAD`` section, all optional)::

    TM_MAD = [ name = "tm_ssh", executable = "one_tm", arguments = "tm_ssh/tm_ssh.conf",
               front_aliases = "front oned.example.org",  # more names of the front-end
               ssh_user = "oneadmin", ssh_port = "22", ssh_key = "~/.ssh/id_rsa" ]

* A location is ``host:path``. When the host is the front-end (``ctx.front``,
  ``localhost`` or a name of ``FRONT_ALIASES``), or when there is no host
  part, the path is handled locally; otherwise over SSH through
  ``ctx.remote(host)`` (oned's shared pool, with this driver's ``SSH_*`` keys).
* CLONE and LN copy (LN is a copy without shared storage, as in 1.4). An
  ``http://``, ``https://`` or ``ftp://`` source is downloaded on the
  destination host (wget, else curl). A ``host:path`` source on another
  host is relayed through the front-end.
* MV moves files and directories (stop, resume, cold migration, SAVE=yes
  disks), relaying through the front-end between two hosts.
* DELETE is ``rm -rf`` and succeeds when the path is already gone.
* CONTEXT copies the ISO image the core built on the front-end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_driverkit.remote import LocalHost, split_location

from one_core.api import hookimpl
from one_tm_ssh import ops

if TYPE_CHECKING:
    from one_core.api import DriverContext

FRONT = "<front>"
"""The endpoint key of every name of the front-end."""


def front_names(ctx: DriverContext) -> set[str]:
    """The host names that mean the front-end."""
    names = {ctx.front, "localhost"}
    for key, value in ctx.config.items():
        if str(key).upper() == "FRONT_ALIASES":
            names.update(str(value).replace(",", " ").split())
    return {n for n in names if n}


def endpoint_key(ctx: DriverContext, host: str) -> str:
    """``FRONT`` for the front-end (or no host), else the host name."""
    return FRONT if not host or host in front_names(ctx) else host


def endpoint(ctx: DriverContext, key: str) -> ops.Host:
    """The handle commands for ``key`` run through."""
    if key == FRONT:
        return LocalHost(ctx.front or "localhost")
    return ctx.remote(key)


def resolve(ctx: DriverContext, location: str) -> tuple[str, ops.Host, str]:
    """``host:path`` → ``(endpoint key, handle, path)``."""
    host, path = split_location(location)
    key = endpoint_key(ctx, host)
    return key, endpoint(ctx, key), path


def _logger(ctx: DriverContext, vid: int, command: str):
    return lambda message: ctx.vm_log(vid, f"{command}: {message}")


# ---------------------------------------------------------------------------
# images in (prolog)
# ---------------------------------------------------------------------------


def clone(ctx: DriverContext, vid: int, src: str, dst: str, command: str = "tm_clone") -> None:
    """Copy (or download) ``src`` to ``dst``, then make it writable (1.4 ``chmod a+w``)."""
    log = _logger(ctx, vid, command)
    dst_key, dst_host, dst_path = resolve(ctx, dst)
    ops.check_path(dst_path)
    if ops.is_url(src):
        log(f"Downloading {src}")
        ops.download(dst_host, src, dst_path, mode="a+w")
        return
    src_key, src_host, src_path = resolve(ctx, src)
    log(f"Cloning {src}")
    same = src_key == dst_key
    ops.copy_file(src_host, src_path, dst_host, dst_path, same_host=same, mode="a+w")


@hookimpl
def tm_clone(ctx: DriverContext, vid: int, src: str, dst: str, size: str | None) -> None:
    """CLONE: copy the image (the size is ignored, as in 1.4)."""
    clone(ctx, vid, src, dst)


@hookimpl
def tm_ln(ctx: DriverContext, vid: int, src: str, dst: str, size: str | None) -> None:
    """LN: without shared storage, a copy (1.4 ran tm_clone.sh)."""
    clone(ctx, vid, src, dst, command="tm_ln")


@hookimpl
def tm_mkswap(ctx: DriverContext, vid: int, size: str, dst: str) -> None:
    """MKSWAP: a sparse file of ``size`` MB, ``mkswap``, ``chmod a+w``."""
    megabytes = ops.check_size(size)
    _, host, path = resolve(ctx, dst)
    ops.check_path(path)
    ctx.vm_log(vid, f"tm_mkswap: Creating {megabytes}Mb image in {path}")
    ops.make_image(host, megabytes, path, ops.mkswap_command(path), "a+w")


@hookimpl
def tm_mkimage(ctx: DriverContext, vid: int, size: str, fstype: str, dst: str) -> None:
    """MKIMAGE: a sparse file of ``size`` MB, ``mkfs -t <fstype>``, ``chmod a+rw``."""
    megabytes = ops.check_size(size)
    fstype = ops.check_fstype(fstype)
    _, host, path = resolve(ctx, dst)
    ops.check_path(path)
    ctx.vm_log(vid, f"tm_mkimage: Creating {megabytes}Mb {fstype} image in {path}")
    ops.make_image(host, megabytes, path, ops.mkfs_command(fstype, path), "a+rw")


@hookimpl
def tm_context(ctx: DriverContext, vid: int, sources: list[str], dst: str, iso: str) -> None:
    """CONTEXT: copy the ISO image the core built on the front-end to ``dst``.

    Without one (``iso`` empty), an image is built here from ``sources``.
    """
    dst_key, host, path = resolve(ctx, dst)
    ctx.vm_log(vid, f"tm_context: Copying context image to {dst}")
    with ops.context_image(iso, sources) as image:
        ops.copy_file(LocalHost(ctx.front), image, host, path, same_host=dst_key == FRONT)


# ---------------------------------------------------------------------------
# images moved and removed
# ---------------------------------------------------------------------------


@hookimpl
def tm_mv(ctx: DriverContext, vid: int, src: str, dst: str) -> None:
    """MV: move a file or a directory (stop, resume, migrate, SAVE=yes disks)."""
    src_key, src_host, src_path = resolve(ctx, src)
    dst_key, dst_host, dst_path = resolve(ctx, dst)
    ctx.vm_log(vid, f"tm_mv: Moving {src} to {dst}")
    ops.move(
        src_host,
        src_path,
        dst_host,
        dst_path,
        same_host=src_key == dst_key,
        log=_logger(ctx, vid, "tm_mv"),
    )


@hookimpl
def tm_delete(ctx: DriverContext, vid: int, path: str) -> None:
    """DELETE: ``rm -rf``; a path that is already gone is fine."""
    _, host, local = resolve(ctx, path)
    ctx.vm_log(vid, f"tm_delete: Deleting {local}")
    ops.delete(host, local)
