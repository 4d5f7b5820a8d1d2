"""one_driverkit.remote: the shared SSH layer, against a real sshd on loopback."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from one_driverkit.remote import HostSettings, RemotePool, quote_command, split_location

from one_core.errors import DriverError


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("node1:/var/lib/one/5/images/disk.0", ("node1", "/var/lib/one/5/images/disk.0")),
        ("front:/srv/a:b", ("front", "/srv/a:b")),
        ("/no/host", ("", "/no/host")),
        ("node1:", ("node1", "")),
    ],
)
def test_split_location(location: str, expected: tuple[str, str]) -> None:
    assert split_location(location) == expected


def test_quote_command() -> None:
    assert quote_command(["echo", "a b", "$(x)", "it's"]) == ("echo 'a b' '$(x)' 'it'\"'\"'s'")
    with pytest.raises(ValueError):
        quote_command([])


def test_per_host_settings_fall_back_to_defaults() -> None:
    pool = RemotePool(
        user="oneadmin",
        port=22,
        key_filename="/k",
        hosts={"node1": HostSettings(hostname="10.0.0.5", port=2222)},
    )
    assert pool.settings("node1") == HostSettings("10.0.0.5", "oneadmin", 2222, "/k")
    assert pool.settings("node2") == HostSettings("node2", "oneadmin", 22, "/k")
    cfg = RemotePool.from_config({"ssh_user": "u", "SSH_PORT": "2200", "SSH_KEY": "/id"})
    assert cfg.settings("h") == HostSettings("h", "u", 2200, "/id")


def test_run_passes_each_argument_verbatim(sshd) -> None:
    pool = sshd.remote_pool()
    try:
        args = ["a b", "$(touch pwned)", "; echo no", "it's", "", "*"]
        result = pool("127.0.0.1").run(["printf", "<%s>", *args])
        assert result.stdout == "".join(f"<{a}>" for a in args)
        assert result.exit_code == 0
        assert not list(Path.home().glob("pwned*"))
    finally:
        pool.close()


def test_failure_carries_exit_code_and_stderr(sshd) -> None:
    pool = sshd.remote_pool()
    try:
        with pytest.raises(DriverError) as err:
            pool.run("127.0.0.1", ["sh", "-c", "echo out; echo 'disk full' >&2; exit 7"])
        assert err.value.exit_code == 7
        assert err.value.stderr == "disk full\n"
        assert str(err.value) == "127.0.0.1: command failed with exit code 7: disk full"
        unchecked = pool.run("127.0.0.1", ["sh", "-c", "exit 2"], check=False)
        assert unchecked.exit_code == 2
    finally:
        pool.close()


def test_timeout_raises_and_the_connection_recovers(sshd) -> None:
    pool = sshd.remote_pool()
    try:
        with pytest.raises(DriverError, match="timed out"):
            pool.run("127.0.0.1", ["sleep", "30"], timeout=0.5)
        assert pool.run("127.0.0.1", ["echo", "again"]).stdout == "again\n"
    finally:
        pool.close()


def _gone(pid: int, within: float = 8.0) -> bool:
    """Whether process ``pid`` ends (or is a zombie) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.05)
    return False


def _spawner(tmp_path: Path) -> tuple[list[str], Path]:
    """A command that starts a child and waits: its pid and its child's, in a file."""
    pids = tmp_path / "pids"
    script = f"sleep 300 & echo $$ $! > {pids}; wait"
    return ["sh", "-c", script], pids


def test_timeout_kills_the_remote_command_and_its_children(sshd, tmp_path: Path) -> None:
    """The whole limit passed: the command's process group on the host is killed, not
    only the channel closed (sshd leaves a command without a terminal running)."""
    pool = sshd.remote_pool()
    argv, pids = _spawner(tmp_path)
    try:
        t0 = time.monotonic()
        with pytest.raises(DriverError, match="timed out after 0.5 s"):
            pool.run("127.0.0.1", argv, timeout=0.5)
        assert time.monotonic() - t0 < 5
        shell, child = (int(p) for p in pids.read_text().split())
        assert _gone(shell) and _gone(child), (shell, child)
        assert pool.run("127.0.0.1", ["echo", "again"]).stdout == "again\n"
    finally:
        pool.close()


def test_driver_call_deadline_kills_the_remote_command(sshd, tmp_path: Path) -> None:
    """A command without a limit of its own is killed at the driver call's deadline
    (``on_expiry``, as the executor's per-action timeout calls it)."""
    from one_core.deadlines import TimedCall

    pool = sshd.remote_pool()
    argv, pids = _spawner(tmp_path)
    try:
        with pytest.raises(DriverError, match="timed out after 0.5 s"):
            TimedCall(lambda: pool.run("127.0.0.1", argv), 0.5).run("test command")
        assert _wait_for_file(pids)
        shell, child = (int(p) for p in pids.read_text().split())
        assert _gone(shell) and _gone(child), (shell, child)
    finally:
        pool.close()


def _wait_for_file(path: Path, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return True
        time.sleep(0.05)
    return False


def test_output_is_unchanged_by_the_group_line(sshd) -> None:
    pool = sshd.remote_pool()
    try:
        result = pool("127.0.0.1").run_script("printf 'a\\nb'; printf e >&2; exit 3", check=False)
        assert (result.stdout, result.stderr, result.exit_code) == ("a\nb", "e", 3)
    finally:
        pool.close()


def test_connection_is_pooled_and_shared_by_threads(sshd) -> None:
    pool = sshd.remote_pool()
    try:
        assert pool("127.0.0.1") is pool("127.0.0.1")
        with ThreadPoolExecutor(4) as ex:
            outs = list(ex.map(lambda i: pool.run("127.0.0.1", ["echo", str(i)]).stdout, range(12)))
        assert outs == [f"{i}\n" for i in range(12)]
    finally:
        pool.close()


def test_put_and_get(sshd, tmp_path: Path) -> None:
    pool = sshd.remote_pool()
    src = tmp_path / "src.bin"
    src.write_bytes(b"\x00context\xff" * 100)
    try:
        host = pool("127.0.0.1")
        host.run(["mkdir", "-p", str(tmp_path / "remote dir")])
        host.put(str(src), str(tmp_path / "remote dir" / "disk.1"))
        host.get(str(tmp_path / "remote dir" / "disk.1"), str(tmp_path / "back.bin"))
        assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()
        with pytest.raises(DriverError, match="cannot copy"):
            host.get(str(tmp_path / "missing"), str(tmp_path / "x"))
    finally:
        pool.close()


def test_unreachable_host_is_a_driver_error(sshd) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    pool = RemotePool(
        user=sshd.user, port=closed_port, key_filename=sshd.key_filename, connect_timeout=5
    )
    with pytest.raises(DriverError, match="cannot connect to 127.0.0.1"):
        pool.run("127.0.0.1", ["true"])


def test_wrong_key_is_a_driver_error(sshd, tmp_path: Path) -> None:
    import subprocess

    key = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    pool = RemotePool(user=sshd.user, port=sshd.port, key_filename=str(key))
    with pytest.raises(DriverError, match="cannot connect"):
        pool.run("127.0.0.1", ["true"])
