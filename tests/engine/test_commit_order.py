"""DESIGN.md §3: every state change is committed BEFORE the driver action it starts.

A recording VMM/TM driver reads the VM's row from its own thread (its own DB
connection, so it only sees committed data) each time it is called.
"""

from __future__ import annotations

import threading

from one_core.context import DriverContext
from one_core.db.vm_models import VMRow
from one_core.drivers import DriverSpec, LoadedDriver, make_plugin_manager
from one_core.hookspecs import hookimpl
from one_core.vm.states import LcmState


class Witness:
    def __init__(self):
        self.seen = []
        self.lock = threading.Lock()
        self.domains = {}

    def see(self, hook, vid):
        row = VMRow.get(VMRow.oid == vid)
        with self.lock:
            self.seen.append((hook, LcmState(row.lcm_state).name, row.pending_action))


class WitnessVMM(Witness):
    @hookimpl
    def vmm_deploy(self, vid):
        self.see("deploy", vid)
        return f"w-{vid}"

    @hookimpl
    def vmm_shutdown(self, vid):
        self.see("shutdown", vid)

    @hookimpl
    def vmm_cancel(self, vid):
        self.see("cancel", vid)

    @hookimpl
    def vmm_save(self, vid):
        self.see("save", vid)

    @hookimpl
    def vmm_restore(self, vid):
        self.see("restore", vid)

    @hookimpl
    def vmm_migrate(self, vid):
        self.see("migrate", vid)

    @hookimpl
    def vmm_poll(self, vid):
        self.see("poll", vid)
        return {"STATE": "a"}


class WitnessTM(Witness):
    def _tm(self, name, vid):
        self.see(name, vid)

    @hookimpl
    def tm_clone(self, vid):
        self._tm("clone", vid)

    @hookimpl
    def tm_ln(self, vid):
        self._tm("ln", vid)

    @hookimpl
    def tm_mkswap(self, vid):
        self._tm("mkswap", vid)

    @hookimpl
    def tm_mkimage(self, vid):
        self._tm("mkimage", vid)

    @hookimpl
    def tm_mv(self, vid):
        self._tm("mv", vid)

    @hookimpl
    def tm_delete(self, vid):
        self._tm("delete", vid)

    @hookimpl
    def tm_context(self, vid):
        self._tm("context", vid)


def _add(env, role, name, plugin):
    spec = DriverSpec(role=role, name=name, driver="witness")
    ctx = DriverContext(role=role, name=name, var_dir=str(env.var))
    pm = make_plugin_manager(role, plugin, f"{role}:{name}")
    env.drivers.drivers[(role, name)] = LoadedDriver(spec=spec, pm=pm, ctx=ctx)


def test_driver_sees_committed_state(env):
    vmm, tm = WitnessVMM(), WitnessTM()
    _add(env, "vmm", "wvmm", vmm)
    _add(env, "tm", "wtm", tm)
    h1 = env.hosts.allocate("w1", "im_dummy", "wvmm", "wtm")
    h2 = env.hosts.allocate("w2", "im_dummy", "wvmm", "wtm")
    vid = env.allocate("NAME=x\nDISK=[SOURCE=/a]\n")
    env.running(vid, h1)
    engine = env.engine
    steps = [
        lambda: engine.action("stop", vid),
        lambda: (engine.action("resume", vid), engine.deploy(vid, h2)),
        lambda: engine.migrate(vid, h1, False),
        lambda: engine.migrate(vid, h2, True),
        lambda: engine.action("suspend", vid),
        lambda: engine.action("resume", vid),
        lambda: engine.action("shutdown", vid),
    ]
    for step in steps:
        step()
        env.settle()
    assert env.states(vid) == ("DONE", "LCM_INIT")
    assert vmm.seen == [
        ("deploy", "BOOT", "DEPLOY"),
        ("save", "SAVE_STOP", "SAVE"),
        ("restore", "BOOT", "RESTORE"),
        ("save", "SAVE_MIGRATE", "SAVE"),
        ("restore", "BOOT", "RESTORE"),
        ("migrate", "MIGRATE", "MIGRATE"),
        ("save", "SAVE_SUSPEND", "SAVE"),
        ("restore", "BOOT", "RESTORE"),
        ("shutdown", "SHUTDOWN", "SHUTDOWN"),
    ]
    assert tm.seen == [
        ("clone", "PROLOG", "TRANSFER prolog"),
        ("mv", "EPILOG_STOP", "TRANSFER stop"),
        ("mv", "PROLOG_RESUME", "TRANSFER resume"),
        ("mv", "PROLOG_MIGRATE", "TRANSFER migrate"),
        ("delete", "EPILOG", "TRANSFER epilog"),
    ]


def test_one_row_write_per_transition(env, monkeypatch):
    """A row whose actions are driver calls writes the VM once: its new state together
    with the action in flight (and a deploy reply's deploy id with the RUNNING state)."""
    vid = env.allocate()
    env.settle()
    writes: list[tuple[str, str]] = []
    real = env.pool.write

    def counted(vm, **kw):
        writes.append((LcmState(vm.lcm_state).name, vm.pending_action))
        real(vm, **kw)

    monkeypatch.setattr(env.pool, "write", counted)
    env.running(vid)
    assert writes == [
        # the new history record's number (VMPool.insert_history) goes with the next one
        ("PROLOG", "TRANSFER prolog"),  # ACTIVE, then PROLOG and its transfer: one write
        ("BOOT", "DEPLOY"),
        ("RUNNING", ""),
    ]
    assert env.vm(vid).deploy_id == f"dummy-{vid}"
