"""The ``kvm`` information driver: 1.4's ``one_im_ssh`` with the ``im_kvm`` probes.

Configuration (oned.conf ``IM_MAD`` section, all optional)::

    IM_MAD = [ name = "im_kvm", executable = "one_im_ssh", arguments = "im_kvm/im_kvm.conf",
               remote_dir = "/var/tmp/one/im/kvm",   # where the probes go on the hosts
               cpu_sample = "1",                      # seconds between the two CPU readings
               netif = "eth0 eth1",                   # interfaces counted (default: all but lo)
               timeout = "60",                        # seconds per probe
               ssh_user = "oneadmin", ssh_port = "22", ssh_key = "~/.ssh/id_rsa" ]

1.4's ``-r <dir>`` in ``ARGUMENTS`` (and ``IM_REMOTE_DIR``) also set the
remote directory.

* The probes are POSIX ``sh`` scripts shipped in this package
  (``one_im_kvm/probes``; Debian hosts have no Ruby). They are uploaded to
  the remote directory the first time this driver process monitors a host,
  unless the host already has this exact bundle (``<dir>/.checksum``), and
  again whenever a probe is found missing.
* ``im_monitor`` runs them in sequence over SSH (``ctx.remote(host)``, or a
  pool of this driver's own from the ``SSH_*`` keys) and parses their
  ``NAME=VALUE`` lines (:func:`one_im_kvm.probes.parse`). As in 1.4, a
  failing probe contributes nothing; when no probe reports anything, or the
  host cannot be reached, :class:`~one_core.errors.DriverError` carries the
  remote standard error.
"""

from __future__ import annotations

import io
import posixpath
import shlex
from typing import TYPE_CHECKING, Any

from one_core.errors import DriverError
from one_core.hookspecs import hookimpl
from one_core.remote import close_own_pool, remote_for
from one_im_kvm import probes

if TYPE_CHECKING:
    from one_core.context import DriverContext

DEFAULT_REMOTE_DIR = "/var/tmp/one/im/kvm"
DEFAULT_TIMEOUT = 60.0

WRITE_EXECUTABLE = 'cat > "$1.new" && chmod 755 "$1.new" && mv -f "$1.new" "$1"'
"""Write standard input to the executable file ``$1`` (replaced at once)."""

NOT_RUNNABLE = (126, 127)
"""Exit codes of a probe that is missing or not executable: upload again."""


def _setting(ctx: DriverContext, key: str, default: str = "") -> str:
    for k, v in ctx.config.items():
        if str(k).upper() == key:
            return str(v).strip()
    return default


def remote_dir(ctx: DriverContext) -> str:
    """Where the probes live on the hosts."""
    configured = _setting(ctx, "REMOTE_DIR") or _setting(ctx, "IM_REMOTE_DIR")
    if not configured:
        args = shlex.split(_setting(ctx, "ARGUMENTS"))
        if "-r" in args[:-1]:
            configured = args[args.index("-r") + 1]
    return (configured or DEFAULT_REMOTE_DIR).rstrip("/") or "/"


def probe_timeout(ctx: DriverContext) -> float | None:
    try:
        value = float(_setting(ctx, "TIMEOUT", str(DEFAULT_TIMEOUT)))
    except ValueError:
        value = DEFAULT_TIMEOUT
    return value if value > 0 else None


def probe_arguments(ctx: DriverContext, name: str) -> list[str]:
    """The arguments of one probe (only ``kvm.sh`` takes some)."""
    if name != "kvm.sh":
        return []
    sample = _setting(ctx, "CPU_SAMPLE", "1")
    try:
        sample = str(max(0.0, float(sample)))
    except ValueError:
        sample = "1"
    return [sample, *_setting(ctx, "NETIF").replace(",", " ").split()]


# ---------------------------------------------------------------------------
# uploading
# ---------------------------------------------------------------------------


def upload(handle: Any, directory: str, bundle: probes.Bundle) -> None:
    """Copy every probe to ``directory`` on the host, the checksum file last."""
    handle.run(["mkdir", "-p", "--", directory])
    for name, content in bundle.scripts.items():
        path = posixpath.join(directory, name)
        handle.pipe(["sh", "-c", WRITE_EXECUTABLE, "sh", path], stdin=io.BytesIO(content))
    handle.pipe(
        ["sh", "-c", 'cat > "$1"', "sh", posixpath.join(directory, probes.CHECKSUM_FILE)],
        stdin=io.BytesIO(bundle.checksum.encode() + b"\n"),
    )


def ensure_probes(ctx: DriverContext, host: str, handle: Any, *, force: bool = False) -> bool:
    """Make sure ``host`` has this driver's probes; return whether they were uploaded."""
    bundle = probes.bundle()
    directory = remote_dir(ctx)
    known: dict[str, str] = ctx.state.setdefault("probes_on_host", {})
    if not force and known.get(host) == bundle.checksum:
        return False
    uploaded = False
    if not force:
        remote = handle.run(
            ["cat", "--", posixpath.join(directory, probes.CHECKSUM_FILE)], check=False
        )
        force = remote.exit_code != 0 or remote.stdout.strip() != bundle.checksum
    if force:
        ctx.log.info("uploading the kvm probes to %s:%s", host, directory)
        upload(handle, directory, bundle)
        uploaded = True
    known[host] = bundle.checksum
    return uploaded


# ---------------------------------------------------------------------------
# monitoring
# ---------------------------------------------------------------------------


def run_probe(ctx: DriverContext, handle: Any, name: str) -> Any:
    path = posixpath.join(remote_dir(ctx), name)
    return handle.run([path, *probe_arguments(ctx, name)], timeout=probe_timeout(ctx), check=False)


@hookimpl
def im_monitor(ctx: DriverContext, hid: int, host: str) -> dict[str, str | int | float]:
    """Run the probes on ``host`` and return what they report (see the module)."""
    handle = remote_for(ctx, host)
    retried = ensure_probes(ctx, host, handle)  # just uploaded: no second upload
    result: dict[str, str | int | float] = {}
    failures: list[str] = []
    for name in probes.PROBES:
        answer = run_probe(ctx, handle, name)
        if answer.exit_code in NOT_RUNNABLE and not retried:
            ensure_probes(ctx, host, handle, force=True)  # wiped or damaged: upload again
            retried = True
            answer = run_probe(ctx, handle, name)
        if answer.exit_code != 0:
            detail = " ".join(answer.stderr.split()) or f"exit code {answer.exit_code}"
            failures.append(f"{name}: {detail}")
            ctx.log.warning("probe %s failed on %s: %s", name, host, detail)
            continue
        result.update(probes.parse(answer.stdout))
    if not result:
        raise DriverError(
            f"Could not monitor host {host}." + (f" {'; '.join(failures)}" if failures else ""),
            stderr="\n".join(failures),
        )
    return result


@hookimpl
def driver_stop(ctx: DriverContext) -> None:
    """Close the SSH connections this driver opened itself."""
    close_own_pool(ctx)
