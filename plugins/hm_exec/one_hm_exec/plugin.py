"""The ``exec`` hook driver: 1.4's ``one_hm``, without the shell.

Configuration (oned.conf ``HM_MAD`` section, all optional)::

    HM_MAD = [ executable = "one_hm",        # selects this driver (or driver = "exec")
               hooks_dir  = "/srv/one/hooks", # where relative commands live
               timeout    = "300",            # seconds per hook, 0 = no limit
               ssh_user = "oneadmin", ssh_port = "22", ssh_key = "~/.ssh/id_rsa" ]

* Local hooks run as ``[command, *arguments]`` with :mod:`subprocess`, no shell,
  standard input closed. A relative command is looked up in the hooks
  directory (``HOOKS_DIR``, else ``$ONE_LOCATION/share/hooks``, else
  ``/usr/share/one/hooks``); a bare name missing there is looked up in
  ``PATH``.
* Remote hooks run on the VM's host through ``ctx.remote(host)`` (oned's shared
  :class:`one_driverkit.remote.RemotePool`, logging in with this driver's
  ``SSH_*`` keys). Every argument is quoted
  with :func:`shlex.quote`; the command is used as given (a path on the host).
* Exit code 0 → the standard output is returned; anything else →
  :class:`~one_core.api.DriverError` with the output (1.4 logged the
  output of failed hooks only).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import TYPE_CHECKING

from one_core.api import DriverError, hookimpl

if TYPE_CHECKING:
    from one_core.api import DriverContext

DEFAULT_TIMEOUT = 300.0
"""Seconds a hook may run when ``TIMEOUT`` is not set."""


def _setting(ctx: DriverContext, key: str, default: str = "") -> str:
    for k, v in ctx.config.items():
        if str(k).upper() == key:
            return str(v).strip()
    return default


def hooks_dir(ctx: DriverContext) -> str:
    """Where relative hook commands live."""
    configured = _setting(ctx, "HOOKS_DIR")
    if configured:
        return configured
    location = os.environ.get("ONE_LOCATION")
    return os.path.join(location, "share", "hooks") if location else "/usr/share/one/hooks"


def timeout(ctx: DriverContext) -> float | None:
    """The per-hook time limit in seconds, ``None`` for no limit."""
    raw = _setting(ctx, "TIMEOUT", str(DEFAULT_TIMEOUT))
    try:
        value = float(raw)
    except ValueError:
        value = DEFAULT_TIMEOUT
    return value if value > 0 else None


def resolve_command(ctx: DriverContext, command: str) -> str:
    """The path a local hook command runs from (see the module docstring)."""
    if os.path.isabs(command):
        return command
    candidate = os.path.join(hooks_dir(ctx), command)
    if "/" in command or os.path.exists(candidate):
        return candidate
    return shutil.which(command) or candidate


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data


def _failure(output: str, stderr: str, exit_code: int | None) -> DriverError:
    detail = " ".join(output.split()) or f"exit code {exit_code}"
    return DriverError(detail, stderr=stderr, exit_code=exit_code)


def run_local(ctx: DriverContext, command: str, arguments: list[str]) -> str:
    """Run a local hook; return its standard output."""
    path = resolve_command(ctx, command)
    limit = timeout(ctx)
    try:
        proc = subprocess.run(
            [path, *arguments],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DriverError(f"{path}: timed out after {limit:g} s", stderr=_text(exc.stderr)) from exc
    except OSError as exc:
        raise DriverError(f"{path}: {exc.strerror or exc}") from exc
    stdout, stderr = _text(proc.stdout), _text(proc.stderr)
    if proc.returncode != 0:
        raise _failure(stdout + "\n" + stderr, stderr, proc.returncode)
    return stdout


def run_remote(ctx: DriverContext, host: str, command: str, arguments: list[str]) -> str:
    """Run a remote hook on ``host``; return its standard output."""
    result = ctx.remote(host).run([command, *arguments], timeout=timeout(ctx), check=False)
    if result.exit_code != 0:
        raise _failure(result.stdout + "\n" + result.stderr, result.stderr, result.exit_code)
    return result.stdout


@hookimpl
def hm_execute(
    ctx: DriverContext,
    vid: int,
    hook_name: str,
    host: str | None,
    command: str,
    arguments: list[str],
) -> str:
    """Run one hook, locally when ``host`` is ``None``, else on ``host`` (see the module)."""
    args = [str(a) for a in arguments]
    if host is None:
        return run_local(ctx, command, args)
    return run_remote(ctx, host, command, args)
