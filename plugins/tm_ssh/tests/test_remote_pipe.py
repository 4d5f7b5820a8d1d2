"""The streaming helpers added to one_driverkit.remote for these drivers: pipe, LocalHost, relay."""

from __future__ import annotations

import io

import pytest
from one_driverkit.remote import LocalHost, upload_text, write_command
from one_tm_ssh import ops

from one_core.errors import DriverError

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB with every byte value


def test_pipe_moves_binary_data_both_ways(pool) -> None:
    host = pool("node1")
    out = io.BytesIO()
    result = host.pipe(["cat"], stdin=io.BytesIO(PAYLOAD), stdout=out)
    assert out.getvalue() == PAYLOAD
    assert result.exit_code == 0


def test_pipe_failure_carries_exit_code_and_stderr(pool) -> None:
    with pytest.raises(DriverError) as err:
        pool("node1").pipe(
            ["sh", "-c", "cat >/dev/null; echo nope >&2; exit 4"], stdin=io.BytesIO(b"x")
        )
    assert err.value.exit_code == 4 and "nope" in err.value.stderr
    result = pool("node1").pipe(["sh", "-c", "exit 5"], check=False)
    assert result.exit_code == 5


def test_pipe_idle_limit(pool) -> None:
    with pytest.raises(DriverError, match="no data for"):
        pool("node1").pipe(["sleep", "3"], timeout=0.5)


def test_local_pipe(tmp_path) -> None:
    out = io.BytesIO()
    LocalHost().pipe(["cat"], stdin=io.BytesIO(PAYLOAD), stdout=out)
    assert out.getvalue() == PAYLOAD


def test_relay_between_front_and_host_and_back(pool, tmp_path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    ops.relay(
        LocalHost(),
        ["cat", "--", str(src)],
        pool("node1"),
        write_command(str(tmp_path / "sub" / "mid.bin")),
    )
    ops.relay(
        pool("node2"),
        ["cat", "--", str(tmp_path / "sub" / "mid.bin")],
        LocalHost(),
        write_command(str(tmp_path / "end.bin")),
    )
    assert (tmp_path / "end.bin").read_bytes() == PAYLOAD


def test_relay_reports_the_producer_failure_first(pool, tmp_path) -> None:
    with pytest.raises(DriverError) as err:
        ops.relay(
            pool("node1"),
            ["cat", "--", str(tmp_path / "missing")],
            LocalHost(),
            ["tar", "-C", str(tmp_path), "-xf", "-"],
        )
    assert "missing" in str(err.value)


def test_relay_stops_when_the_consumer_dies(pool, tmp_path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as fh:
        fh.truncate(64 * 1024 * 1024)
    with pytest.raises(DriverError) as err:
        ops.relay(LocalHost(), ["cat", "--", str(big)], pool("node1"), ["sh", "-c", "exit 7"])
    assert err.value.exit_code == 7


@pytest.mark.parametrize("local", [False, True])
def test_upload_text_creates_the_directory(pool, tmp_path, local) -> None:
    target = tmp_path / "new dir" / "x;$(touch pwned)" / "deployment.0"
    handle = LocalHost() if local else pool("node1")
    upload_text(handle, "name = 'one-7'\n", str(target))
    assert target.read_text() == "name = 'one-7'\n"
    assert not (tmp_path / "pwned").exists()
