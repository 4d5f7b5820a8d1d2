"""Transfer script builders (§4.2-4.3) and paths (§2.3), without drivers."""

from __future__ import annotations

import pytest

from one_core.errors import DriverError
from one_core.template import Template
from one_core.vm import transfer
from one_core.vm.paths import VMPaths
from one_core.vm.transfer import TransferCommand, TransferError

P = VMPaths(var_dir="/var/lib/one/", vid=5, seq=1, vm_dir="/srv/one/var")


def test_paths():
    assert P.local_dir == "/var/lib/one/5"
    assert P.deployment_file == "/var/lib/one/5/deployment.1"
    assert P.transfer_file("prolog") == "/var/lib/one/5/transfer.1.prolog"
    assert P.transfer_file("delete_prev") == "/var/lib/one/5/transfer.1.delete_prev"
    assert P.context_file == "/var/lib/one/5/context.sh"
    assert P.rdir == "/srv/one/var/5/images"
    assert P.checkpoint == "/srv/one/var/5/images/checkpoint"
    assert P.remote_deployment_file == "/srv/one/var/5/images/deployment.1"
    assert P.disk(2) == "/srv/one/var/5/images/disk.2"
    with pytest.raises(ValueError):
        P.transfer_file("bogus")
    # default VM_DIR = VAR with its trailing slash: no "//" (decision)
    assert VMPaths(var_dir="/var/lib/one/", vid=5).rdir == "/var/lib/one/5/images"


def lines(commands):
    return [c.line() for c in commands]


def test_prolog_example_of_the_spec():
    t = Template.parse(
        "DISK=[SOURCE=/images/base.img]\nDISK=[TYPE=swap,SIZE=1024]\n"
        'CONTEXT=[FILES="/home/oneadmin/init.sh /x/id.pub", TARGET=hdc]\n'
    )
    warnings = []
    cmds = transfer.prolog_commands(t, "node1", P, "front", warnings.append)
    assert lines(cmds) == [
        "CLONE front:/images/base.img node1:/srv/one/var/5/images/disk.0",
        "MKSWAP 1024 node1:/srv/one/var/5/images/disk.1",
        "CONTEXT /var/lib/one/5/context.sh /home/oneadmin/init.sh /x/id.pub "
        "node1:/srv/one/var/5/images/disk.2",
    ]
    assert warnings == []


def test_disk_rules():
    t = Template.parse(
        "DISK=[SOURCE=http://x/a.img, SIZE=10]\n"
        "DISK=[SOURCE=/b, CLONE=no]\n"
        "DISK=[SOURCE=/c, CLONE=YES]\n"
        "DISK=[TYPE=FS, SIZE=100, FORMAT=ext3]\n"
        "DISK=[TYPE=fs, SIZE=100]\n"
        "DISK=[TYPE=swap]\n"
        "DISK=[SOURCE=host9:/dev/vg/lv, TYPE=block]\n"
    )
    warnings = []
    cmds = transfer.disk_commands(t, "h", P, "front", warnings.append)
    r = P.rdir
    assert lines(cmds) == [
        f"CLONE http://x/a.img h:{r}/disk.0 10",
        f"LN front:/b h:{r}/disk.1",
        f"CLONE front:/c h:{r}/disk.2",
        f"MKIMAGE 100 ext3 h:{r}/disk.3",
        f"CLONE host9:/dev/vg/lv h:{r}/disk.6",
    ]
    assert warnings == [
        "No size or format in plain FS image, skipping",
        "No size in swap image, skipping",
    ]


def test_no_source_fails():
    with pytest.raises(TransferError, match="prolog, undefined source disk image in VM template"):
        transfer.disk_commands(Template.parse("DISK=[TARGET=hda]\n"), "h", P, "f", print)


def test_context_needs_exactly_one_vector():
    two = Template.parse("CONTEXT=[A=1]\nCONTEXT=[B=2]\n")
    assert transfer.context_command(two, "h", P) is None
    assert transfer.context_command(Template.parse("CONTEXT=x\n"), "h", P) is None


def test_other_phases():
    t = Template.parse("DISK=[SOURCE=/a, SAVE=YES]\nDISK=[SOURCE=/b]\nDISK=[SOURCE=/c,SAVE=yes]\n")
    r = P.rdir
    assert lines(transfer.epilog_commands(t, "h", P, "front")) == [
        f"MV h:{r}/disk.0 front:/var/lib/one/5/disk.0",
        f"MV h:{r}/disk.2 front:/var/lib/one/5/disk.2",
        f"DELETE h:{r}",
    ]
    assert lines(transfer.stop_commands("h", P, "front")) == [f"MV h:{r} front:/var/lib/one/5"]
    assert lines(transfer.resume_commands("h", P, "front")) == [
        f"MV front:/var/lib/one/5/images h:{r}"
    ]
    assert lines(transfer.migrate_commands("a", "b", P)) == [f"MV a:{r} b:{r}"]
    assert lines(transfer.delete_commands("h", P)) == [f"DELETE h:{r}"]


class Recorder:
    def __init__(self, fail_on=None):
        self.calls = []
        self.fail_on = fail_on

    def call(self, hook, **kw):
        self.calls.append((hook, kw))
        if hook == self.fail_on:
            raise DriverError(f"{hook} broke")


def test_run_commands_one_hook_per_line_stops_at_first_failure(tmp_path):
    cmds = [
        TransferCommand("CLONE", ("f:/a", "h:/d/disk.0")),
        TransferCommand("MKSWAP", ("10", "h:/d/disk.1")),
        TransferCommand("MKIMAGE", ("5", "ext3", "h:/d/disk.2")),
        TransferCommand("LN", ("f:/b", "h:/d/disk.3", "7")),
        TransferCommand("CONTEXT", ("/v/context.sh", "/x", "h:/d/disk.4"), iso="/v/context.iso"),
        TransferCommand("MV", ("h:/d", "f:/v")),
        TransferCommand("DELETE", ("h:/d",)),
    ]
    rec = Recorder()
    transfer.run_commands(rec, 3, cmds)
    assert rec.calls == [
        ("tm_clone", {"vid": 3, "src": "f:/a", "dst": "h:/d/disk.0", "size": None}),
        ("tm_mkswap", {"vid": 3, "size": "10", "dst": "h:/d/disk.1"}),
        ("tm_mkimage", {"vid": 3, "size": "5", "fstype": "ext3", "dst": "h:/d/disk.2"}),
        ("tm_ln", {"vid": 3, "src": "f:/b", "dst": "h:/d/disk.3", "size": "7"}),
        (
            "tm_context",
            {
                "vid": 3,
                "sources": ["/v/context.sh", "/x"],
                "dst": "h:/d/disk.4",
                "iso": "/v/context.iso",
            },
        ),
        ("tm_mv", {"vid": 3, "src": "h:/d", "dst": "f:/v"}),
        ("tm_delete", {"vid": 3, "path": "h:/d"}),
    ]
    rec = Recorder(fail_on="tm_mkswap")
    with pytest.raises(DriverError, match="tm_mkswap broke"):
        transfer.run_commands(rec, 3, cmds)
    assert [h for h, _ in rec.calls] == ["tm_clone", "tm_mkswap"]
    path = tmp_path / "5" / "transfer.0.prolog"
    transfer.write_script(str(path), cmds[:2])
    assert path.read_text() == "CLONE f:/a h:/d/disk.0\nMKSWAP 10 h:/d/disk.1\n"
