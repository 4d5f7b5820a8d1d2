"""On-host VM paths have one home (one_core.vm.paths): the engine, the drivers' record
and the driver kit name the same files."""

from __future__ import annotations

from one_driverkit.vmm_helpers import remote_deployment_path

from one_core.context import DriverContext
from one_core.records import VMRecord
from one_core.template import Template
from one_core.vm.paths import VMPaths, remote_images_dir


def test_engine_record_and_driver_kit_agree() -> None:
    for vm_dir in ("/srv/one/var", "/srv/one/var/"):
        engine = VMPaths(var_dir="/var/lib/one", vid=5, seq=1, vm_dir=vm_dir)
        record = VMRecord(vid=5, uid=0, name="v", template=Template(), host="n1", vm_dir=vm_dir)
        ctx = DriverContext(role="vmm", name="vmm_x", vm_dir=vm_dir)
        assert remote_images_dir(vm_dir, 5) == "/srv/one/var/5/images"
        assert engine.rdir == record.images_dir == remote_images_dir(vm_dir, 5)
        assert engine.checkpoint == record.checkpoint == "/srv/one/var/5/images/checkpoint"
        assert engine.disk(2) == record.disk_path(2) == "/srv/one/var/5/images/disk.2"
        assert (
            engine.remote_deployment_file
            == remote_deployment_path(ctx, 5, engine.deployment_file)
            == "/srv/one/var/5/images/deployment.1"
        )
