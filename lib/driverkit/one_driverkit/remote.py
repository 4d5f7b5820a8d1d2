"""Running commands on hosts over SSH: the layer shared by SSH drivers (hm, tm, vmm, im).

One pooled :class:`fabric.Connection` per host, key-based authentication,
commands given as argument lists (each element quoted with
:func:`shlex.quote`, so template values never reach the remote shell
unquoted), timeouts, and failures as :class:`~one_core.api.DriverError`
carrying the remote exit code and standard error.

::

    pool = RemotePool(user="oneadmin", key_filename="~/.ssh/id_rsa",
                      hosts={"node1": HostSettings(hostname="10.0.0.5", port=2222)})
    out = pool("node1").run(["mkdir", "-p", "/var/lib/one/7/images"])
    pool("node1").put("/tmp/context.iso", "/var/lib/one/7/images/disk.1")
    pool.close()

oned keeps one :class:`RemotePool` for all its drivers and hands it to
each as ``ctx.remote`` (:class:`~one_core.api.DriverContext`): a driver calls
``ctx.remote(host)`` and gets the pooled :class:`RemoteHost`. A driver
section's ``SSH_USER``, ``SSH_PORT``, ``SSH_KEY`` and ``SSH_TIMEOUT`` apply to
that driver's connections (:meth:`RemotePool.for_section`); connections with
the same settings are shared between drivers.

Binary data (images, tar streams) goes through :meth:`RemoteHost.pipe`;
:class:`LocalHost` gives the front-end the same interface, so a driver can
treat a ``front:path`` location like any host.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

from one_core.api import DriverError, on_expiry


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


def _checked(name: str, result: RunResult, check: bool) -> RunResult:
    """``result``; with ``check``, a non-zero exit is a :class:`DriverError` naming the host
    ``name``, the exit code and the command's standard error (else output) on one line."""
    if check and result.exit_code != 0:
        detail = _one_line(result.stderr) or _one_line(result.stdout)
        raise DriverError(
            f"{name}: command failed with exit code {result.exit_code}"
            + (f": {detail}" if detail else ""),
            stderr=result.stderr,
            exit_code=result.exit_code,
        )
    return result


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
        """Run a command line that the caller built and quoted itself (avoid: prefer :meth:`run`).

        ``timeout`` limits the whole run. When it passes, or the driver call's own
        deadline does (:func:`~one_core.api.on_expiry`), the command's process group
        on the host is killed (TERM, KILL 2 s later) and its channel closed: nothing
        of it lives on.
        """
        limit = self.timeout if timeout is None else timeout
        conn = self._open()
        try:
            channel = conn.client.get_transport().open_session()
            channel.exec_command(_reporting_group(command))
        except Exception as exc:  # the connection dropped: reconnect on the next call
            self.connection.close()
            raise DriverError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        streams = _GroupStreams(channel, self)
        timer = threading.Timer(limit, streams.kill) if limit else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            result = _pump(self.name, command, streams, None, None, None, check=False)
        finally:
            if timer is not None:
                timer.cancel()
        if streams.killed:
            after = f"after {limit} s" if limit else "at the driver call's deadline"
            raise DriverError(f"{self.name}: command timed out {after}: {command}", exit_code=None)
        return _checked(self.name, result, check)

    def kill_group(self, pgid: int) -> None:
        """Signal process group ``pgid`` on the host: TERM now, KILL 2 s later (the
        second part runs on the host in the background; this returns at once)."""
        later = f"(sleep 2; kill -KILL -- -{pgid} || kill -KILL {pgid}) >/dev/null 2>&1 &"
        script = f"kill -TERM -- -{pgid} 2>/dev/null || kill -TERM {pgid} 2>/dev/null; {later}"
        try:
            channel = self._open().client.get_transport().open_session()
            try:
                channel.exec_command(script)
                channel.status_event.wait(10)
            finally:
                channel.close()
        except Exception:  # the host is unreachable: closing the channel is all we can do
            pass

    def pipe(
        self,
        argv: Sequence[str],
        *,
        stdin: BinaryIO | None = None,
        stdout: BinaryIO | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> RunResult:
        """Run ``argv`` with binary streams: bytes of ``stdin`` in, standard output to ``stdout``.

        For data that is not text (images, tar streams): ``stdin`` is read in
        chunks until EOF and sent to the command's standard input, its output
        is written to ``stdout`` (or returned in ``RunResult.stdout``, decoded,
        when ``stdout`` is ``None``). ``timeout`` limits the time without any
        data moving, not the whole run, so big transfers are not cut short.
        Errors as in :meth:`run`.
        """
        command = quote_command(argv)
        limit = self.timeout if timeout is None else timeout
        conn = self._open()
        try:
            channel = conn.client.get_transport().open_session()
            channel.settimeout(limit or None)
            channel.exec_command(command)
        except Exception as exc:
            self.connection.close()
            raise DriverError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        return _pump(self.name, command, _ChannelStreams(channel), stdin, stdout, limit, check)

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


class _Connections:
    """The handles of a pool and of its :meth:`RemotePool.for_section` views."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.handles: dict[tuple[Any, ...], RemoteHost] = {}


class RemotePool:
    """One :class:`RemoteHost` (one SSH connection) per host and settings, created on first use."""

    def __init__(
        self,
        *,
        user: str | None = None,
        port: int = 22,
        key_filename: str | None = None,
        connect_timeout: float = 10.0,
        command_timeout: float | None = None,
        hosts: Mapping[str, HostSettings] | None = None,
        _connections: _Connections | None = None,
    ):
        self.defaults = HostSettings(user=user, port=port, key_filename=key_filename)
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.hosts = dict(hosts or {})
        self._shared = _connections or _Connections()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RemotePool:
        """From a driver section: ``SSH_USER``, ``SSH_PORT``, ``SSH_KEY``, ``SSH_TIMEOUT``."""
        return cls().for_section(config)

    def for_section(self, config: Mapping[str, Any]) -> RemotePool:
        """This pool with a driver section's ``SSH_*`` keys as defaults, sharing its connections.

        Keys the section does not set keep this pool's values. Raises
        :class:`DriverError` for a ``SSH_PORT`` or ``SSH_TIMEOUT`` that is not a number.
        """
        cfg = {str(k).upper(): v for k, v in config.items()}
        try:
            port = int(cfg.get("SSH_PORT") or self.defaults.port or 22)
            timeout = float(cfg.get("SSH_TIMEOUT") or self.connect_timeout)
        except ValueError as exc:
            raise DriverError(f"SSH_PORT and SSH_TIMEOUT must be numbers: {exc}") from None
        return RemotePool(
            user=cfg.get("SSH_USER") or self.defaults.user,
            port=port,
            key_filename=cfg.get("SSH_KEY") or self.defaults.key_filename,
            connect_timeout=timeout,
            command_timeout=self.command_timeout,
            hosts=self.hosts,
            _connections=self._shared,
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
        """The pooled handle of ``host`` (one per host name and effective settings)."""
        key = (host, self.settings(host), self.connect_timeout, self.command_timeout)
        shared = self._shared
        with shared.lock:
            handle = shared.handles.get(key)
            if handle is None:
                handle = RemoteHost(host, self._connect(host), timeout=self.command_timeout)
                shared.handles[key] = handle
            return handle

    def run(self, host: str, argv: Sequence[str], **kwargs: Any) -> RunResult:
        """Shortcut for ``pool(host).run(argv)``."""
        return self(host).run(argv, **kwargs)

    def close(self) -> None:
        """Close every connection (those of the views made by :meth:`for_section` too)."""
        shared = self._shared
        with shared.lock:
            handles, shared.handles = list(shared.handles.values()), {}
        for handle in handles:
            handle.close()


# ---------------------------------------------------------------------------
# binary streaming (RemoteHost.pipe, LocalHost.pipe)
# ---------------------------------------------------------------------------

_CHUNK = 256 * 1024


class _ChannelStreams:
    """A paramiko channel seen as the three standard streams of one command."""

    def __init__(self, channel: Any):
        self.channel = channel

    def send(self, data: bytes) -> None:
        self.channel.sendall(data)

    def close_stdin(self) -> None:
        self.channel.shutdown_write()

    def recv(self) -> bytes:
        return self.channel.recv(_CHUNK)

    def recv_stderr(self) -> bytes:
        return self.channel.recv_stderr(_CHUNK)

    def wait(self, limit: float | None) -> int | None:
        if not self.channel.status_event.wait(limit or None):
            return None
        return self.channel.recv_exit_status()

    def kill(self) -> None:
        self.channel.close()


class _ProcessStreams:
    """A local :class:`subprocess.Popen` seen like :class:`_ChannelStreams`."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)

    def close_stdin(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()

    def recv(self) -> bytes:
        assert isinstance(self.proc.stdout, io.BufferedReader)
        return self.proc.stdout.read1(_CHUNK)

    def recv_stderr(self) -> bytes:
        assert isinstance(self.proc.stderr, io.BufferedReader)
        return self.proc.stderr.read1(_CHUNK)

    def wait(self, limit: float | None) -> int | None:
        try:
            return self.proc.wait(limit or None)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        self.proc.kill()


def _reporting_group(command: str) -> str:
    """``command`` preceded by a first output line: the id of its process group.

    sshd starts each command in a session of its own (``setsid``), so the login
    shell's pid (``$$``) is the process group that the command and every process
    it starts belong to. The command itself still runs in the login shell, as before.
    """
    return f"echo $$\n{command}"


class _GroupStreams(_ChannelStreams):
    """A channel running :func:`_reporting_group`: the first line of standard output
    (the process group) is taken off; :meth:`kill` ends the group on the host, then
    closes the channel."""

    GROUP_WAIT = 5.0
    """Seconds :meth:`kill` waits for the first line if it has not come yet."""

    def __init__(self, channel: Any, host: RemoteHost):
        super().__init__(channel)
        self.host = host
        self.pgid: int | None = None
        self.killed = False
        self._head = b""
        self._known = threading.Event()
        self._lock = threading.Lock()

    def recv(self) -> bytes:
        while not self._known.is_set():
            data = self.channel.recv(_CHUNK)
            if not data:
                self._known.set()  # ended (or closed) before its first line
                return b""
            line, sep, rest = (self._head + data).partition(b"\n")
            if not sep:
                self._head = line
                continue
            self.pgid = int(line) if line.strip().isdigit() else None
            self._known.set()
            if rest:
                return rest
        return self.channel.recv(_CHUNK)

    def kill(self) -> None:
        with self._lock:
            if self.killed:
                return
            self.killed = True
        self._known.wait(self.GROUP_WAIT)
        if self.pgid is not None and self.pgid > 1:
            self.host.kill_group(self.pgid)
        self.channel.close()


def _pump(
    name: str,
    command: str,
    streams: _ChannelStreams | _ProcessStreams,
    stdin: BinaryIO | None,
    stdout: BinaryIO | None,
    limit: float | None,
    check: bool,
) -> RunResult:
    """Move the bytes of one command: a thread feeds stdin, one drains stderr.

    ``limit`` is an idle limit: it fails the command only when no byte moved
    in any direction for that long.
    """
    on_expiry(streams.kill)  # the driver call's deadline passed: kill the command
    err = bytearray()
    out = bytearray()
    last = [time.monotonic()]
    finished = threading.Event()

    def idle() -> bool:
        return limit is not None and limit > 0 and time.monotonic() - last[0] >= limit

    def drain_stderr() -> None:
        while True:
            try:
                data = streams.recv_stderr()
            except TimeoutError:
                if finished.is_set() or idle():
                    return
                continue
            except Exception:  # closed: the exit status tells the rest
                return
            if not data:
                return
            last[0] = time.monotonic()
            err.extend(data)

    def feed() -> None:
        try:
            if stdin is not None:
                while data := stdin.read(_CHUNK):
                    streams.send(data)
                    last[0] = time.monotonic()
        except Exception:  # the command stopped reading: its exit status tells why
            pass
        finally:
            with contextlib.suppress(Exception):
                streams.close_stdin()

    threads = [threading.Thread(target=drain_stderr, daemon=True)]
    threads.append(threading.Thread(target=feed, daemon=True))
    for thread in threads:
        thread.start()
    try:
        while True:
            try:
                data = streams.recv()
            except TimeoutError:
                if idle():
                    raise
                continue
            if not data:
                break
            last[0] = time.monotonic()
            if stdout is None:
                out.extend(data)
            else:
                stdout.write(data)
    except TimeoutError as exc:
        streams.kill()
        raise DriverError(f"{name}: no data for {limit} s: {command}") from exc
    except Exception as exc:  # our consumer went away (broken pipe) or the link dropped
        streams.kill()
        raise DriverError(f"{name}: {type(exc).__name__}: {exc}: {command}") from exc
    finally:
        finished.set()
    code = streams.wait(limit)
    if code is None:
        streams.kill()
        raise DriverError(f"{name}: command did not exit after {limit} s: {command}")
    for thread in threads:
        thread.join(limit or None)
    result = RunResult(out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), code)
    return _checked(name, result, check)


# ---------------------------------------------------------------------------
# the front-end itself, with the same interface
# ---------------------------------------------------------------------------


class LocalHost:
    """The front-end, with :class:`RemoteHost`'s interface: argument lists run without a shell.

    Lets a driver treat a ``front:path`` location like any other host
    (``run``, ``pipe``, ``put``, ``get``) without going through SSH.
    """

    def __init__(self, name: str = "localhost", *, timeout: float | None = None):
        self.name = name
        self.timeout = timeout

    def run(
        self, argv: Sequence[str], *, timeout: float | None = None, check: bool = True
    ) -> RunResult:
        """Run ``argv`` locally (standard input closed); errors as :meth:`RemoteHost.run`."""
        return self.pipe(argv, timeout=timeout, check=check)

    def pipe(
        self,
        argv: Sequence[str],
        *,
        stdin: BinaryIO | None = None,
        stdout: BinaryIO | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> RunResult:
        """As :meth:`RemoteHost.pipe`, locally."""
        command = quote_command(argv)
        limit = self.timeout if timeout is None else timeout
        try:
            proc = subprocess.Popen(
                [str(a) for a in argv],
                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise DriverError(
                f"{self.name}: cannot run {command}: {exc.strerror or exc}", exit_code=127
            ) from exc
        try:
            return _pump(self.name, command, _ProcessStreams(proc), stdin, stdout, limit, check)
        finally:
            for stream in (proc.stdin, proc.stdout, proc.stderr):
                if stream is not None:
                    stream.close()
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    def put(self, local: str, remote: str) -> None:
        """Copy a file (local to local)."""
        try:
            shutil.copyfile(local, remote)
        except OSError as exc:
            raise DriverError(f"{self.name}: cannot copy {local} to {remote}: {exc}") from exc

    def get(self, remote: str, local: str) -> None:
        """Copy a file (local to local)."""
        self.put(remote, local)

    def close(self) -> None:
        """Nothing to close."""


# ---------------------------------------------------------------------------
# what SSH drivers call
# ---------------------------------------------------------------------------


WRITE_STDIN = 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"'
"""Write standard input to the file ``$1``, creating its directory (the path is an
argument, never shell text)."""


def write_command(path: str) -> list[str]:
    """The argument list writing standard input to ``path`` (see :data:`WRITE_STDIN`)."""
    return ["sh", "-c", WRITE_STDIN, "sh", path]


def upload_text(
    handle: RemoteHost | LocalHost, text: str, path: str, *, timeout: float | None = None
) -> RunResult:
    """Write ``text`` (UTF-8) to ``path`` on the host, creating its directory: one command.

    Errors as in :meth:`RemoteHost.pipe`.
    """
    return handle.pipe(write_command(path), stdin=io.BytesIO(text.encode("utf-8")), timeout=timeout)
