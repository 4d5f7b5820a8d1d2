"""The core's own transfer scripts (one_core.vm.transfer) run through the ``ssh`` driver.

prolog → stop → resume → epilog (SAVE=yes) → delete, for one VM on ``node1``,
checking the files each phase leaves on the host and on the front-end.
"""

from __future__ import annotations

import os
from pathlib import Path

from one_core.template import Template
from one_core.vm import transfer
from one_core.vm.paths import VMPaths
from one_core.vm.transfer import TransferCommand


def test_a_vm_through_its_transfer_phases(world) -> None:
    base = world.root / "images" / "base.img"
    base.parent.mkdir()
    data = os.urandom(100_000)
    base.write_bytes(data)
    paths = VMPaths(var_dir=str(world.root / "var"), vid=7, seq=0, vm_dir=str(world.root / "n1"))
    Path(paths.local_dir).mkdir(parents=True)
    Path(paths.context_file).write_text('HOSTNAME="vm7"\n')
    iso = Path(paths.local_dir) / "context.iso"
    iso.write_bytes(b"ISO" * 1000)
    template = Template.parse(
        f'DISK = [ SOURCE = "{base}", SAVE = "yes" ]\n'
        "DISK = [ TYPE = swap, SIZE = 8 ]\n"
        "DISK = [ TYPE = fs, SIZE = 8, FORMAT = ext4 ]\n"
        'CONTEXT = [ HOSTNAME = "vm7" ]\n'
    )
    rdir = Path(paths.rdir)
    warnings: list[str] = []

    def run(commands: list[TransferCommand], suffix: str) -> None:
        transfer.write_script(paths.transfer_file(suffix), commands)
        transfer.run_commands(world.driver, 7, commands)

    # prolog
    commands = transfer.disk_commands(template, "node1", paths, "front", warnings.append)
    ctx_line = transfer.context_command(template, "node1", paths)
    assert ctx_line is not None
    commands.append(TransferCommand(ctx_line.op, ctx_line.args, iso=str(iso)))
    run(commands, "prolog")
    assert (rdir / "disk.0").read_bytes() == data
    assert (rdir / "disk.1").stat().st_size == 8 * 1024 * 1024
    assert (rdir / "disk.2").stat().st_size == 8 * 1024 * 1024
    assert (rdir / "disk.3").read_bytes() == iso.read_bytes()
    assert Path(paths.transfer_file("prolog")).read_text().startswith(f"CLONE front:{base} node1:")

    # stop: the images go to VAR<vid>/images on the front-end
    run(transfer.stop_commands("node1", paths, "front"), "stop")
    assert not rdir.exists()
    assert sorted(os.listdir(paths.local_images_dir)) == ["disk.0", "disk.1", "disk.2", "disk.3"]

    # resume: back to the host
    run(transfer.resume_commands("node1", paths, "front"), "resume")
    assert not Path(paths.local_images_dir).exists()
    assert (rdir / "disk.0").read_bytes() == data

    # epilog: the SAVE=yes disk comes back to the front-end, the images dir goes
    (rdir / "disk.0").write_bytes(b"changed by the guest")
    run(transfer.epilog_commands(template, "node1", paths, "front"), "epilog")
    assert Path(paths.saved_disk(0)).read_bytes() == b"changed by the guest"
    assert not rdir.exists()

    # a later delete (e.g. recovery repeating the cleanup) still succeeds
    run(transfer.delete_commands("node1", paths), "delete")
    assert warnings == []
