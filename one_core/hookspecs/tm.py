"""Transfer drivers: entry-point group ``one.tm``.

1.4 equivalent: ``TM_MAD`` (``one_tm`` running the ``tm_nfs`` or ``tm_ssh``
scripts). The core builds each phase's list of commands from the VM's DISKs
(``spec/lifecycle-and-drivers.md`` §4.2-4.3) and calls one hook per
command, in order, stopping at the first :class:`~one_core.errors.DriverError`.

Locations are written as in 1.4's transfer scripts: ``host:path``. The host
is everything before the first ``:``, the path everything after it; a source
that is not on a host (``http://...``) comes verbatim. Use
:func:`one_driverkit.remote.split_location` (driver kit) to split them.

Every command must be idempotent where it can be (a ``tm_delete`` of a path
that is gone succeeds), because recovery after a crash may repeat it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from one_core.hookspecs import hookspec

if TYPE_CHECKING:
    from one_core.context import DriverContext

REQUIRED: tuple[str, ...] = (
    "tm_clone",
    "tm_ln",
    "tm_mkswap",
    "tm_mkimage",
    "tm_mv",
    "tm_delete",
    "tm_context",
)
OPTIONAL: tuple[str, ...] = ()

# ---------------------------------------------------------------------------
# images in (prolog)
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def tm_clone(ctx: DriverContext, vid: int, src: str, dst: str, size: str | None) -> None:
    """Copy the image ``src`` to ``dst`` (``host:path``).

    ``src`` is ``front:/path`` for an image on the front-end, or an
    ``http://`` URL, or any ``host:path`` the template gave. ``size`` is the
    DISK's ``SIZE`` (MB) when set; 1.4's drivers ignore it. Create the
    destination directory when missing.
    """


@hookspec(firstresult=True)
def tm_ln(ctx: DriverContext, vid: int, src: str, dst: str, size: str | None) -> None:
    """Make ``src`` available at ``dst`` without copying when the storage allows it.

    Used for DISKs with ``CLONE = no``. With shared storage (NFS) this is a
    symbolic link; without it (SSH) a copy, as 1.4 did.
    """


@hookspec(firstresult=True)
def tm_mkswap(ctx: DriverContext, vid: int, size: str, dst: str) -> None:
    """Create a swap image of ``size`` MB at ``dst`` (``host:path``) and format it.

    Generated for a DISK with ``TYPE = swap``. 1.4 made the file sparse
    (``dd ... seek=<size>M``) and ran ``mkswap`` on it, creating the
    destination directory first.
    """


@hookspec(firstresult=True)
def tm_mkimage(ctx: DriverContext, vid: int, size: str, fstype: str, dst: str) -> None:
    """Create a sparse image of ``size`` MB at ``dst`` and make a ``fstype`` file system on it."""


@hookspec(firstresult=True)
def tm_context(ctx: DriverContext, vid: int, sources: list[str], dst: str, iso: str) -> None:
    """Put the VM's context CD-ROM image at ``dst``.

    ``sources`` are ``context.sh`` (written by the core on the front-end,
    ``VAR/<vid>/context.sh``) then every entry of the CONTEXT's ``FILES``
    (front-end paths or URLs), as on 1.4's ``CONTEXT`` transfer line. The
    driver builds the ISO image from them, as 1.4's ``tm_context.sh`` ran
    ``mkisofs`` (``one_driverkit.context_iso.context_image`` does it). ``iso``
    is a prebuilt image to copy instead, or ``""`` (what oned passes: the core
    has no ISO writer).
    """


# ---------------------------------------------------------------------------
# images moved and removed (stop, resume, migrate, epilog, delete)
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def tm_mv(ctx: DriverContext, vid: int, src: str, dst: str) -> None:
    """Move the file or directory ``src`` to ``dst`` (both ``host:path``).

    Used to bring a stopped VM's images back to the front-end and out again,
    between hosts in a cold migration, and to keep ``SAVE = yes`` disks at
    the epilog. With shared storage moving a directory is a no-op (1.4's
    tm_nfs).
    """


@hookspec(firstresult=True)
def tm_delete(ctx: DriverContext, vid: int, path: str) -> None:
    """Remove ``path`` (``host:path``) recursively.

    Used at the epilog, on delete and to clean a previous host after a failed
    migration. Must succeed when the path is already gone (recovery may
    repeat it).
    """
