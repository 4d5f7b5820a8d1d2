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
  (``one_im_kvm/probes``; Debian hosts have no Ruby).
* ``im_monitor`` runs them in sequence in **one** SSH command
  (``ctx.remote(host)``, or a pool of this driver's own from the ``SSH_*``
  keys): a constant runner script that first checks that the remote
  directory holds this exact bundle (``<dir>/.checksum``). When it does not
  (first use, new driver version, a wiped ``/var/tmp``), or a probe is
  missing, the bundle is uploaded (one tar stream) and the probes run again.
* Their ``NAME=VALUE`` lines are parsed (:func:`one_im_kvm.probes.parse`).
  As in 1.4, a failing probe contributes nothing; when no probe reports
  anything, or the host cannot be reached,
  :class:`~one_core.api.DriverError` carries the remote standard error.
"""

from __future__ import annotations

import io
import shlex
import tarfile
from typing import TYPE_CHECKING, Any

from one_driverkit.settings import DriverSettings

from one_core.api import DriverError, hookimpl
from one_im_kvm import probes

if TYPE_CHECKING:
    from one_core.api import DriverContext

DEFAULT_REMOTE_DIR = "/var/tmp/one/im/kvm"
DEFAULT_TIMEOUT = 60.0

RUNNER = """dir=$1 sum=$2 n=$3
shift 3
[ "$(cat "$dir/.checksum" 2>/dev/null)" = "$sum" ] || exit 99
probes=
while [ "$n" -gt 0 ]; do probes="$probes $1"; shift; n=$((n - 1)); done
for probe in $probes; do
    "$dir/$probe" "$@"
    echo "
@@ONE-PROBE-EXIT $? $probe"
done"""
"""Run every probe of ``$dir`` (``$4``... ``$3`` names, the rest their arguments) when
the bundle there has checksum ``$2``; exit 99 when it has not. Each probe's output is
followed by a line ``@@ONE-PROBE-EXIT <code> <name>``."""

MARK = "@@ONE-PROBE-EXIT "
OUTDATED = 99
"""The runner's exit code when the host lacks this bundle."""

NOT_RUNNABLE = (126, 127)
"""Exit codes of a probe that is missing or not executable: upload again."""

UNPACK = 'mkdir -p -- "$1" && tar -C "$1" -xf -'
"""Unpack the tar stream on standard input into ``$1``."""


def _setting(ctx: DriverContext, key: str, default: str = "") -> str:
    found = DriverSettings(ctx).find(key)
    return default if found is None else found


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


def probe_arguments(ctx: DriverContext) -> list[str]:
    """The probes' arguments (only ``kvm.sh`` uses them): CPU sample seconds, interfaces."""
    sample = _setting(ctx, "CPU_SAMPLE", "1")
    try:
        sample = str(max(0.0, float(sample)))
    except ValueError:
        sample = "1"
    return [sample, *_setting(ctx, "NETIF").replace(",", " ").split()]


# ---------------------------------------------------------------------------
# uploading
# ---------------------------------------------------------------------------


def archive(bundle: probes.Bundle) -> bytes:
    """The probes as a tar archive, mode 755, the checksum file last."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        members = [*((n, c, 0o755) for n, c in bundle.scripts.items())]
        members.append((probes.CHECKSUM_FILE, bundle.checksum.encode() + b"\n", 0o644))
        for name, content, mode in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(content), mode
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def upload(handle: Any, directory: str, bundle: probes.Bundle) -> None:
    """Copy every probe to ``directory`` on the host (one tar stream)."""
    handle.pipe(["sh", "-c", UNPACK, "sh", directory], stdin=io.BytesIO(archive(bundle)))


# ---------------------------------------------------------------------------
# monitoring
# ---------------------------------------------------------------------------


def run_probes(ctx: DriverContext, handle: Any, bundle: probes.Bundle) -> Any:
    """One SSH command running every probe (see :data:`RUNNER`)."""
    argv = ["sh", "-c", RUNNER, "sh", remote_dir(ctx), bundle.checksum, str(len(bundle.scripts))]
    argv += [*bundle.scripts, *probe_arguments(ctx)]
    return handle.run(argv, timeout=probe_timeout(ctx), check=False)


def split_answers(stdout: str) -> list[tuple[str, int, str]]:
    """The runner's output → ``[(probe, exit code, its output)]``."""
    answers: list[tuple[str, int, str]] = []
    lines: list[str] = []
    for line in stdout.splitlines():
        if line.startswith(MARK):
            code, _, name = line[len(MARK) :].partition(" ")
            answers.append((name, int(code) if code.isdigit() else -1, "\n".join(lines)))
            lines = []
        else:
            lines.append(line)
    return answers


@hookimpl
def im_monitor(ctx: DriverContext, hid: int, host: str) -> dict[str, str | int | float]:
    """Run the probes on ``host`` and return what they report (see the module)."""
    handle = ctx.remote(host)
    bundle = probes.bundle()
    answer = run_probes(ctx, handle, bundle)
    answers = split_answers(answer.stdout)
    if answer.exit_code == OUTDATED or any(code in NOT_RUNNABLE for _, code, _ in answers):
        ctx.log.info("uploading the kvm probes to %s:%s", host, remote_dir(ctx))
        upload(handle, remote_dir(ctx), bundle)
        answer = run_probes(ctx, handle, bundle)
        answers = split_answers(answer.stdout)
    result: dict[str, str | int | float] = {}
    failed = []
    for name, code, output in answers:
        if code == 0:
            result.update(probes.parse(output))
        else:
            failed.append(f"{name} (exit code {code})")
    stderr = answer.stderr.strip()
    if failed:
        ctx.log.warning("probes failed on %s: %s: %s", host, ", ".join(failed), stderr)
    if not result:
        detail = "; ".join(filter(None, [", ".join(failed), " ".join(stderr.split())]))
        if not answers:
            detail = detail or f"exit code {answer.exit_code}"
        raise DriverError(
            f"Could not monitor host {host}." + (f" {detail}" if detail else ""),
            stderr=answer.stderr,
            exit_code=answer.exit_code,
        )
    return result
