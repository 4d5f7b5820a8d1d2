"""A VM's front-end files (transfer scripts, vm.log) are written with few system calls
(issue 19): one ``os.open`` of the file when its directory exists, no ``makedirs`` per
write, no buffered ``open()``; their bytes are those a text ``open()`` wrote."""

from __future__ import annotations

import os
import shutil

from one_core.logs import VMLogWriter, ctime
from one_core.testing.file_calls import FileCalls
from one_core.vm.paths import write_local
from one_core.vm.transfer import TransferCommand, write_script

COMMANDS = [
    TransferCommand("CLONE", ("front:/images/a.img", "node1:/var/7/images/disk.0")),
    TransferCommand("MKSWAP", ("512", "node1:/var/7/images/disk.1")),
]
SCRIPT = (
    "CLONE front:/images/a.img node1:/var/7/images/disk.0\nMKSWAP 512 node1:/var/7/images/disk.1\n"
)


def test_write_script_is_one_open_of_the_file(tmp_path, monkeypatch):
    (tmp_path / "7").mkdir()
    path = tmp_path / "7" / "transfer.0.prolog"
    calls = FileCalls(monkeypatch)
    write_script(str(path), COMMANDS)
    write_script(str(path), COMMANDS[:1])  # truncates
    assert calls.under(tmp_path) == [("os.open", str(path))] * 2
    assert path.read_text() == SCRIPT.splitlines(keepends=True)[0]


def test_write_script_makes_a_missing_directory(tmp_path):
    path = tmp_path / "var" / "7" / "transfer.0.prolog"
    write_script(str(path), COMMANDS)
    assert path.read_text() == SCRIPT
    write_script(str(tmp_path / "var" / "7" / "transfer.0.epilog"), [])
    assert (tmp_path / "var" / "7" / "transfer.0.epilog").read_bytes() == b""


def test_write_local_writes_what_a_text_open_wrote(tmp_path):
    text = "<TEMPLATE><NAME><![CDATA[vm é ✓]]></NAME></TEMPLATE>\nline\r\n"
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    write_local(str(ours), "longer text that is truncated")
    write_local(str(ours), text)
    with open(theirs, "w", encoding="utf-8") as fh:
        fh.write(text)
    assert ours.read_bytes() == theirs.read_bytes()
    write_local(str(ours), "more\n", append=True)
    assert ours.read_bytes() == (text + "more\n").encode("utf-8")


def test_vm_log_lines_are_raw_writes_to_one_open_file(tmp_path, monkeypatch):
    (tmp_path / "3").mkdir()
    writer = VMLogWriter(str(tmp_path))
    calls = FileCalls(monkeypatch)
    writer(3, "DiM", "I", "New VM state is ACTIVE.")
    writer.write_many(3, [("LCM", "I", "New VM state is PROLOG."), ("TM", "E", "failed")])
    writer(3, "LCM", "I", "New VM state is BOOT")
    log = tmp_path / "3" / "vm.log"
    assert calls.under(tmp_path) == [("os.open", str(log))]
    stamp = len(ctime()) + 1  # each line starts with the ctime and a space
    assert [line[stamp:] for line in log.read_text().splitlines()] == [
        "[DiM][I]: New VM state is ACTIVE.",
        "[LCM][I]: New VM state is PROLOG.",
        "[TM][E]: failed",
        "[LCM][I]: New VM state is BOOT",
    ]
    writer.close()


def test_vm_log_first_line_makes_the_directory_with_one_mkdir(tmp_path, monkeypatch):
    writer = VMLogWriter(str(tmp_path))
    calls = FileCalls(monkeypatch)
    writer.write_many(8, [("DiM", "I", "New VM state is ACTIVE.")])
    log = str(tmp_path / "8" / "vm.log")
    assert calls.under(tmp_path) == [
        ("os.open", log),  # ENOENT: the directory is missing
        ("os.mkdir", str(tmp_path / "8")),
        ("os.open", log),
    ]
    writer.close()


def test_vm_log_of_a_deleted_directory_is_made_again(tmp_path):
    writer = VMLogWriter(str(tmp_path))
    writer(4, "DiM", "I", "first")
    shutil.rmtree(tmp_path / "4")
    writer(4, "DiM", "I", "second")
    assert (tmp_path / "4" / "vm.log").read_text().endswith("[DiM][I]: second\n")
    assert "first" not in (tmp_path / "4" / "vm.log").read_text()
    writer.close()


def test_vm_log_keeps_at_most_max_open_descriptors(tmp_path):
    def open_fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    writer = VMLogWriter(str(tmp_path), max_open=3)
    before = open_fds()
    for vid in range(10):
        writer(vid, "DiM", "I", "one")
        writer.write_many(vid, [("LCM", "I", "two")])
    assert open_fds() - before == 3
    for vid in range(10):
        assert (tmp_path / str(vid) / "vm.log").read_text().count("\n") == 2
    writer.close()
    assert open_fds() == before
