"""What virtualization drivers that drive a hypervisor tool over SSH share.

The deployment text of ``vmm_deploy`` (given, else read from the local
file), where the deployment file goes on the host and copying it there, the
shutdown wait and the error of a failed tool command.
"""

from __future__ import annotations

import os
import posixpath
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from one_core.api import DriverError, remote_images_dir
from one_driverkit.remote import upload_text

if TYPE_CHECKING:
    from one_core.api import DriverContext
    from one_driverkit.remote import RunResult

_DEPLOYMENT = re.compile(r"deployment\.\d+")


def deployment_text(deployment_file: str, deployment: str) -> str:
    """``deployment`` when given, else the content of ``deployment_file`` on the front-end.

    :class:`DriverError` ``Can not open deployment file <file>`` (1.4's
    message) when both are missing or blank.
    """
    text = deployment
    if not text:
        try:
            with open(deployment_file, encoding="utf-8") as fh:
                text = fh.read()
        except OSError:
            text = ""
    if not text.strip():
        raise DriverError(f"Can not open deployment file {deployment_file}")
    return text


def remote_deployment_path(ctx: DriverContext, vid: int, deployment_file: str) -> str:
    """Where the deployment file goes on the host: ``<VM_DIR>/<vid>/images/deployment.<seq>``.

    The name is the local file's (``deployment.<seq>``), else ``deployment.0``.
    """
    name = posixpath.basename(deployment_file.replace(os.sep, "/"))
    if not _DEPLOYMENT.fullmatch(name):
        name = "deployment.0"
    return f"{remote_images_dir(ctx.vm_dir, vid)}/{name}"


def upload_deployment(
    ctx: DriverContext,
    vid: int,
    host: str,
    deployment_file: str,
    deployment: str,
    *,
    timeout: float | None = None,
) -> tuple[str, str]:
    """Copy the deployment text to :func:`remote_deployment_path` on ``host``.

    The text is :func:`deployment_text`; it goes through ``ctx.remote(host)``
    with :func:`one_driverkit.remote.upload_text`. Returns ``(text, remote path)``.
    """
    text = deployment_text(deployment_file, deployment)
    remote_file = remote_deployment_path(ctx, vid, deployment_file)
    upload_text(ctx.remote(host), text, remote_file, timeout=timeout)
    return text, remote_file


def wait_until(done: Callable[[], bool], *, timeout: float, poll: float, message: str) -> None:
    """Call ``done()`` every ``poll`` seconds until it returns true.

    After ``timeout`` seconds (0 or less: wait forever, as 1.4 did) a
    :class:`DriverError` with ``message``. ``done`` may raise to stop early.
    """
    start = time.monotonic()
    while not done():
        if timeout > 0 and time.monotonic() - start >= timeout:
            raise DriverError(message)
        time.sleep(poll)


def wait_for_shutdown(
    gone: Callable[[], bool], deploy_id: str, *, after: str, timeout: float, poll: float
) -> None:
    """:func:`wait_until` the domain is ``gone()`` after the shutdown command ``after``.

    The timeout error: ``Timeout reached: domain <id> still running <timeout> s after <after>``.
    """
    wait_until(
        gone,
        timeout=timeout,
        poll=poll,
        message=f"Timeout reached: domain {deploy_id} still running {timeout:g} s after {after}",
    )


def command_failed(what: str, result: RunResult) -> DriverError:
    """``<what> failed: <standard error on one line>`` (else its output, else the exit code)."""
    detail = " ".join((result.stderr or result.stdout).split()) or f"exit code {result.exit_code}"
    return DriverError(f"{what} failed: {detail}", stderr=result.stderr, exit_code=result.exit_code)
