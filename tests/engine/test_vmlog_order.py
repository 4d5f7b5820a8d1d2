"""vm.log lines are written on a thread of their own (:mod:`one_core.engine.linewriter`):
the line announcing a driver action is in vm.log before the action starts, and a caller
of an engine action finds its VM's lines written when the call returns."""

from __future__ import annotations

import threading
from pathlib import Path

from one_core.context import DriverContext
from one_core.drivers import DriverSpec, LoadedDriver, make_plugin_manager
from one_core.engine.linewriter import LineWriter
from one_core.hookspecs import hookimpl

from .test_commit_order import WitnessVMM


class LogWitnessVMM(WitnessVMM):
    """A VMM driver that reads the VM's vm.log each time it is called."""

    def __init__(self, var: Path) -> None:
        super().__init__()
        self.var = var

    def see(self, hook: str, vid: int) -> None:
        text = (self.var / str(vid) / "vm.log").read_text()
        with self.lock:
            self.seen.append((hook, text))

    @hookimpl
    def vmm_poll(self, vid):
        return {"STATE": "a"}  # polls are not actions: nothing announced, nothing recorded


def _add(env, plugin) -> None:
    spec = DriverSpec(role="vmm", name="logw", driver="witness")
    ctx = DriverContext(role="vmm", name="logw", var_dir=str(env.var))
    pm = make_plugin_manager("vmm", plugin, "vmm:logw")
    env.drivers.drivers[("vmm", "logw")] = LoadedDriver(spec=spec, pm=pm, ctx=ctx)


def test_line_before_the_driver_call_it_announces(env):
    vmm = LogWitnessVMM(env.var)
    _add(env, vmm)
    hid = env.hosts.allocate("lw", "im_dummy", "logw", "tm_dummy")
    vids = [env.allocate() for _ in range(20)]
    for vid in vids:
        env.engine.deploy(vid, hid)
    env.settle()
    for vid in vids:
        env.engine.action("shutdown", vid)
    env.settle()
    assert len(vmm.seen) == 40
    for hook, text in vmm.seen:
        last = text.splitlines()[-1]
        want = "New VM state is BOOT" if hook == "deploy" else "New VM state is SHUTDOWN"
        assert want in last, (hook, text)


def test_caller_finds_its_lines_written(env):
    vid = env.allocate()
    env.engine.deploy(vid, env.node1)
    text = env.engine.vm_log.path(vid)
    assert "New VM state is ACTIVE." in Path(text).read_text()


def test_writer_keeps_order_tickets_and_work(tmp_path):
    written: list[tuple[int, str]] = []
    gate = threading.Event()

    def slow(vid, module, level, message):
        gate.wait(5)
        written.append((vid, message))

    writer = LineWriter("test-vmlog")
    try:
        first = writer.put([(slow, 1, "LCM", "I", "a"), (slow, 2, "LCM", "I", "b")])
        second = writer.put([(slow, 1, "LCM", "I", "c")])
        answered: list[str] = []
        writer.then(answered.append, "answer")
        assert not writer.wait(first, 0.05)  # not written yet: the writer is held
        assert answered == []
        gate.set()
        assert writer.wait(second, 5)
        assert writer.flush(5)
        # each VM's lines in order (batches queued together are written together)
        assert [m for v, m in written if v == 1] == ["a", "c"]
        assert sorted(written) == [(1, "a"), (1, "c"), (2, "b")]
        assert answered == ["answer"]
        writer.then(answered.append, "now")  # nothing pending: run at once
        assert answered == ["answer", "now"]
    finally:
        writer.stop()
    writer.put([(slow, 3, "LCM", "I", "after stop")])  # written at once
    assert written[-1] == (3, "after stop")
