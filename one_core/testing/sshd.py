"""A real OpenSSH server on loopback for tests of SSH drivers.

The ``one_core.testing`` pytest plugin registers the fixture; a test just asks
for ``sshd``. The session fixture ``sshd`` starts ``/usr/sbin/sshd -D -f <own config> -p
<free port>`` with a generated host key and a client key authorised for the
current user, in a temporary directory, and yields an :class:`SshServer`
(``host``, ``port``, ``user``, ``key_filename``, ``remote_pool()``). Tests
skip with a clear reason when ``/usr/sbin/sshd`` is not installed
(``apt-get install openssh-server``).
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from one_core.testing.process import stop_process

SSHD = "/usr/sbin/sshd"
KEYGEN = shutil.which("ssh-keygen") or "/usr/bin/ssh-keygen"


@dataclass
class SshServer:
    """A running test sshd."""

    host: str
    port: int
    user: str
    key_filename: str
    directory: str

    def remote_pool(self, **kwargs):
        """A ``one_driverkit.remote.RemotePool`` that reaches this server for any host name."""
        from one_driverkit.remote import RemotePool

        return RemotePool(
            user=self.user,
            port=self.port,
            key_filename=self.key_filename,
            **kwargs,
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: str) -> None:
    subprocess.run(
        [KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", path], check=True, capture_output=True
    )


def _wait_listening(proc: subprocess.Popen, port: int, logfile: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            with open(logfile, encoding="utf-8", errors="replace") as fh:
                raise RuntimeError(f"sshd exited with {proc.returncode}: {fh.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(4).startswith(b"SSH"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("sshd did not start listening")


def start_sshd(directory: str) -> tuple[subprocess.Popen, SshServer]:
    """Start a test sshd with its own keys in ``directory``."""
    host_key = os.path.join(directory, "ssh_host_ed25519_key")
    client_key = os.path.join(directory, "id_ed25519")
    _keygen(host_key)
    _keygen(client_key)
    authorized = os.path.join(directory, "authorized_keys")
    shutil.copy(client_key + ".pub", authorized)
    os.chmod(authorized, 0o600)
    os.makedirs("/run/sshd", exist_ok=True)  # privilege separation directory
    port = _free_port()
    config = os.path.join(directory, "sshd_config")
    with open(config, "w", encoding="utf-8") as fh:
        fh.write(
            f"ListenAddress 127.0.0.1\n"
            f"HostKey {host_key}\n"
            f"PidFile {directory}/sshd.pid\n"
            f"AuthorizedKeysFile {authorized}\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\n"
            "StrictModes no\n"
            "UsePAM no\n"
            "MaxSessions 50\n"
            "MaxStartups 50\n"
            "Subsystem sftp internal-sftp\n"
        )
    logfile = os.path.join(directory, "sshd.log")
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", config, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=open(logfile, "wb"),  # noqa: SIM115 - owned by the child
        stdin=subprocess.DEVNULL,
    )
    try:
        _wait_listening(proc, port, logfile)
    except Exception:
        proc.kill()
        proc.wait()
        raise
    return proc, SshServer("127.0.0.1", port, getpass.getuser(), client_key, directory)


@pytest.fixture(scope="session")
def sshd() -> Iterator[SshServer]:
    """A real sshd on 127.0.0.1 accepting the yielded key for the current user."""
    if not os.path.exists(SSHD):
        pytest.skip(f"{SSHD} not installed (apt-get install openssh-server)")
    directory = tempfile.mkdtemp(prefix="one-sshd-")
    proc, server = start_sshd(directory)
    try:
        yield server
    finally:
        stop_process(proc)
        shutil.rmtree(directory, ignore_errors=True)
