"""A real oned whose ``var`` directory is a small tmpfs that the test can grow.

The tmpfs is mounted in a mount namespace of oned's own, so nothing is left
mounted on the machine whatever happens to the test:

* as root (CI): ``unshare --mount --propagation private`` (needs ``CAP_SYS_ADMIN``,
  as a plain ``mount`` does);
* as another user: ``unshare --user --map-root-user --mount`` (an unprivileged user
  namespace, where the user may mount a tmpfs).

The first that works is used; if neither does, :func:`namespace_kind` fails the test
(it is not skipped). oned is started as ``unshare ... sh -c 'mount ...; exec oned'``, so
the process the test holds *is* oned, and :meth:`TmpfsOned.resize` runs
``mount -o remount,size=...`` in oned's namespace through ``nsenter``. Files under
``var`` are read through ``/proc/<pid>/root``, oned's view of the file system, or by a
command run in the namespace (:meth:`TmpfsOned.run_inside`: SQLite resolves the
``/proc/<pid>/root`` link to the caller's own root).
"""

from __future__ import annotations

import functools
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from one_core.testing.oned import OnedProcess

_UNSHARE = {
    "root": ["unshare", "--mount", "--propagation", "private"],
    "user": ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"],
}
_NSENTER = {
    "root": ["nsenter", "-m"],
    "user": ["nsenter", "--preserve-credentials", "-U", "-m"],
}


@functools.cache
def namespace_kind() -> str:
    """``"root"`` or ``"user"``: the way this machine lets the test mount a tmpfs
    (``ONE_TEST_TMPFS_NS=user`` makes root use the unprivileged way, to test it)."""
    order = ["root", "user"] if os.geteuid() == 0 else ["user"]
    if os.environ.get("ONE_TEST_TMPFS_NS") == "user":
        order = ["user"]
    errors = []
    for kind in order:
        probe = "mount -t tmpfs -o size=1m tmpfs /tmp"  # in a private namespace: harmless
        try:
            done = subprocess.run(
                [*_UNSHARE[kind], "sh", "-c", probe], capture_output=True, text=True, timeout=30
            )
        except OSError as exc:
            errors.append(f"{kind}: {exc}")
            continue
        if done.returncode == 0:
            return kind
        errors.append(f"{kind}: {(done.stdout + done.stderr).strip()}")
    pytest.fail(
        "cannot mount a tmpfs for oned's var: neither as root (unshare --mount) nor in an "
        "unprivileged user namespace (unshare --user --map-root-user --mount): " + "; ".join(errors)
    )


class TmpfsOned(OnedProcess):
    """:class:`OnedProcess` whose ``var`` is a tmpfs of ``size`` (``"2m"``) in oned's own
    mount namespace."""

    size = "2m"

    def command(self) -> list[str]:
        var = shlex.quote(str(self.location / "var"))
        oned = shlex.join(super().command())
        script = f"mount -t tmpfs -o size={self.size},mode=0755 tmpfs {var} && exec {oned}"
        return [*_UNSHARE[namespace_kind()], "sh", "-c", script]

    @property
    def var(self) -> Path:
        """``var`` as oned sees it (its tmpfs), while it runs."""
        if self.proc is None:
            return self.location / "var"
        return Path(f"/proc/{self.proc.pid}/root") / str(self.location / "var").lstrip("/")

    def run_inside(self, *command: str) -> str:
        """Run ``command`` in oned's mount namespace (it sees the tmpfs); its stdout."""
        assert self.proc is not None
        target = [*_NSENTER[namespace_kind()], "-t", str(self.proc.pid)]
        done = subprocess.run([*target, *command], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, (command, done.stderr)
        return done.stdout

    def resize(self, size: str) -> None:
        """Grow (or shrink) the tmpfs now: ``mount -o remount,size=<size>`` in oned's namespace."""
        # type and source given: libmount then passes only these options (given the mount
        # point alone, it adds uid=/gid= from mountinfo, refused in a user namespace)
        var = str(self.location / "var")
        self.run_inside("mount", "-t", "tmpfs", "-o", f"remount,size={size}", "tmpfs", var)

    def df(self) -> tuple[int, int]:
        """``(used, total)`` bytes of the tmpfs."""
        st = os.statvfs(self.var)
        return (st.f_blocks - st.f_bfree) * st.f_frsize, st.f_blocks * st.f_frsize
