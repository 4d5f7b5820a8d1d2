"""Running commands on hosts over SSH: the layer shared by SSH drivers (hm, tm, vmm, im).

One pooled :class:`fabric.Connection` per host, key-based authentication,
commands given as argument lists (each element quoted with
:func:`shlex.quote`, so template values never reach the remote shell
unquoted), timeouts, and failures as :class:`~one_core.errors.DriverError`
carrying the remote exit code and standard error.

::

    pool = RemotePool(user="oneadmin", key_filename="~/.ssh/id_rsa",
                      hosts={"node1": HostSettings(hostname="10.0.0.5", port=2222)})
    out = pool("node1").run(["mkdir", "-p", "/var/lib/one/7/images"])
    pool("node1").put("/tmp/context.iso", "/var/lib/one/7/images/disk.1")
    pool.close()

A :class:`RemotePool` is what a :class:`~one_core.context.DriverContext`'s
``remote_factory`` should be: ``ctx.remote(host)`` then returns a
:class:`RemoteHost`.
"""

from __future__ import annotations

import os
import shlex
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from one_core.errors import DriverError


def split_location(location: str) -> tuple[str, str]:
    """``"host:path"`` → ``("host", "path")``, split at the first ``:`` (1.4's TM scripts).

    A location without ``:`` has no host: ``("", location)``. URLs are not
    locations: ``http://x/y`` gives ``("http", "//x/y")``; check for them first.
    """
    host, sep, path = location.partition(":")
    return (host, path) if sep else ("", location)


def quote_command(argv: Sequence[str]) -> str:
    """An argument list as one POSIX shell command line, every element quoted."""
    if not argv:
        raise ValueError("empty command")
    return " ".join(shlex.quote(str(a)) for a in argv)


@dataclass(frozen=True)
class HostSettings:
    """How to reach one host. ``None`` fields fall back to the pool's defaults."""

    hostname: str | None = None
    user: str | None = None
    port: int | None = None
    key_filename: str | None = None


@dataclass(frozen=True)
class RunResult:
    """What a remote command gave back."""

    stdout: str
    stderr: str
    exit_code: int


def _one_line(text: str) -> str:
    return " ".join(text.split())


class RemoteHost:
    """Commands on one host through a pooled connection (thread-safe)."""

    def __init__(self, name: str, connection: Any, *, timeout: float | None):
        self.name = name
        self.connection = connection
        self.timeout = timeout
        self._lock = threading.Lock()

    def _open(self) -> Any:
        with self._lock:
            if not self.connection.is_connected:
                try:
                    self.connection.open()
                except Exception as exc:
                    raise DriverError(f"cannot connect to {self.name}: {exc}") from exc
        return self.connection

    def run(
        self, argv: Sequence[str], *, timeout: float | None = None, check: bool = True
    ) -> RunResult:
        """Run ``argv`` on the host; each element reaches the program as one argument.

        Raises :class:`DriverError` when the connection fails, the command
        times out, or (with ``check``) exits non-zero; the message names the
        command's exit code and its standard error.
        """
        return self.run_script(quote_command(argv), timeout=timeout, check=check)

    def run_script(
        self, command: str, *, timeout: float | None = None, check: bool = True
    ) -> RunResult:
        """Run a command line that the caller built and quoted itself (avoid: prefer :meth:`run`)."""
        from invoke.exceptions import CommandTimedOut

        limit = self.timeout if timeout is None else timeout
        conn = self._open()
        try:
            result = conn.run(command, hide=True, warn=True, in_stream=False, timeout=limit or None)
        except CommandTimedOut as exc:
            raise DriverError(
                f"{self.name}: command timed out after {limit} s: {command}", exit_code=None
            ) from exc
        except Exception as exc:  # the connection dropped: reconnect on the next call
            self.connection.close()
            raise DriverError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        out = RunResult(result.stdout, result.stderr, result.exited)
        if check and out.exit_code != 0:
            detail = _one_line(out.stderr) or _one_line(out.stdout)
            raise DriverError(
                f"{self.name}: command failed with exit code {out.exit_code}"
                + (f": {detail}" if detail else ""),
                stderr=out.stderr,
                exit_code=out.exit_code,
            )
        return out

    def put(self, local: str, remote: str) -> None:
        """Copy a local file to ``remote`` on the host (SFTP)."""
        conn = self._open()
        try:
            conn.put(local, remote)
        except Exception as exc:
            raise DriverError(f"{self.name}: cannot copy {local} to {remote}: {exc}") from exc

    def get(self, remote: str, local: str) -> None:
        """Copy ``remote`` from the host to a local file (SFTP)."""
        conn = self._open()
        try:
            conn.get(remote, local)
        except Exception as exc:
            raise DriverError(f"{self.name}: cannot copy {remote} to {local}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self.connection.close()


class RemotePool:
    """One :class:`RemoteHost` (one SSH connection) per host name, created on first use."""

    def __init__(
        self,
        *,
        user: str | None = None,
        port: int = 22,
        key_filename: str | None = None,
        connect_timeout: float = 10.0,
        command_timeout: float | None = None,
        hosts: Mapping[str, HostSettings] | None = None,
    ):
        self.defaults = HostSettings(user=user, port=port, key_filename=key_filename)
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.hosts = dict(hosts or {})
        self._lock = threading.Lock()
        self._pool: dict[str, RemoteHost] = {}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RemotePool:
        """From a driver section: ``SSH_USER``, ``SSH_PORT``, ``SSH_KEY``, ``SSH_TIMEOUT``."""
        cfg = {str(k).upper(): v for k, v in config.items()}
        return cls(
            user=cfg.get("SSH_USER") or None,
            port=int(cfg.get("SSH_PORT") or 22),
            key_filename=cfg.get("SSH_KEY") or None,
            connect_timeout=float(cfg.get("SSH_TIMEOUT") or 10),
        )

    def settings(self, host: str) -> HostSettings:
        """The effective settings of ``host``."""
        own = self.hosts.get(host, HostSettings())
        merged = replace(
            self.defaults,
            **{k: v for k, v in vars(own).items() if v is not None},
        )
        return replace(merged, hostname=merged.hostname or host)

    def _connect(self, host: str) -> Any:
        import fabric

        s = self.settings(host)
        kwargs: dict[str, Any] = {}
        if s.key_filename:
            kwargs = {
                "key_filename": os.path.expanduser(s.key_filename),
                "look_for_keys": False,
                "allow_agent": False,
            }
        return fabric.Connection(
            s.hostname,
            user=s.user,
            port=s.port,
            connect_timeout=self.connect_timeout,
            connect_kwargs=kwargs,
        )

    def __call__(self, host: str) -> RemoteHost:
        """The pooled handle of ``host``."""
        with self._lock:
            handle = self._pool.get(host)
            if handle is None:
                handle = RemoteHost(host, self._connect(host), timeout=self.command_timeout)
                self._pool[host] = handle
            return handle

    def run(self, host: str, argv: Sequence[str], **kwargs: Any) -> RunResult:
        """Shortcut for ``pool(host).run(argv)``."""
        return self(host).run(argv, **kwargs)

    def close(self) -> None:
        """Close every connection."""
        with self._lock:
            handles, self._pool = list(self._pool.values()), {}
        for handle in handles:
            handle.close()
