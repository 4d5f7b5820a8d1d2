"""From oned.conf text to a hook run: HM_MAD ``one_hm`` selects the exec driver."""

from __future__ import annotations

from concurrent.futures import wait
from pathlib import Path

import pytest

from one_core.drivers import load_drivers
from one_core.logs import VMLogWriter
from one_core.records import VMRecord
from one_core.template import Template
from one_core.vm_hooks import HookManager


def test_sample_oned_conf_hooks_run(tmp_path: Path, recorder) -> None:
    config = pytest.importorskip("one_core.config")
    script, read = recorder
    text = f"""
HM_MAD = [ executable = "one_hm", hooks_dir = "{script.parent}" ]
VM_HOOK = [ name = "dhcp", on = "create", command = "record",
            arguments = "$NAME > /tmp/test.$VMID" ]
VM_HOOK = [ name = "mail", on = "running", command = "{script}",
            arguments = "$VMID $NAME", remote = "no" ]
VM_HOOK = [ on = "boot", command = "/bin/true" ]
"""
    cfg = config.OnedConfig.from_text(text, var_dir=str(tmp_path / "var"))
    drivers = load_drivers(cfg, vm_log_func=VMLogWriter(str(tmp_path / "var")))
    manager = HookManager.from_entries(cfg.vm_hooks)
    assert [(h.name, h.on) for h in manager.hooks] == [("dhcp", "CREATE"), ("mail", "RUNNING")]
    template = Template.parse('NAME = "web"\nVMID = 3')
    vm = VMRecord(vid=3, uid=0, name="web", template=template, host="node1", vm_dir="/vm")
    futures = manager.fire("create", vm, drivers) + manager.state_changed(
        vm, drivers, state=3, lcm_state=3, prev_state=3, prev_lcm_state=2
    )
    wait(futures, timeout=60)
    assert sorted(read()) == [["3", "web"], ["web", ">", "/tmp/test.3"]]
    manager.shutdown()
