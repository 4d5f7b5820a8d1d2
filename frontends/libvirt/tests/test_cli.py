"""``one-libvirtd`` command line: refusals before serving."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from one_libvirt.cli import build_parser, main


def test_missing_credentials_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--auth", str(tmp_path / "nope"), "--no-tcp", "--unix", str(tmp_path / "s")]) == 1
    assert "nope" in capsys.readouterr().err


def test_nothing_to_listen_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    auth = tmp_path / "auth"
    auth.write_text("oneadmin:pw\n")
    assert main(["--auth", str(auth), "--no-tcp"]) == 2
    assert "nothing to listen on" in capsys.readouterr().err


def test_port_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    auth = tmp_path / "auth"
    auth.write_text("oneadmin:pw\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["--auth", str(auth), "--port", str(port)]) == 1
    assert "one-libvirtd:" in capsys.readouterr().err


def test_defaults() -> None:
    args = build_parser().parse_args([])
    assert (args.listen, args.port, args.unix, args.sasl, args.pool_filter) == (
        "127.0.0.1",
        16509,
        None,
        False,
        -1,
    )
