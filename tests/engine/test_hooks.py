"""Hooks fire at the transitions of §1.9 through the HookManager (and an hm driver)."""

from __future__ import annotations

import threading

from one_core.context import DriverContext
from one_core.drivers import DriverSpec, LoadedDriver, make_plugin_manager
from one_core.hookspecs import hookimpl
from one_core.vm.ports import ManagerHooks
from one_core.vm_hooks import HookManager


class RecordingHM:
    def __init__(self):
        self.calls = []
        self.lock = threading.Lock()

    @hookimpl
    def hm_execute(self, vid, hook_name, host, command, arguments):
        with self.lock:
            self.calls.append((vid, hook_name, host, command, list(arguments)))
        return ""


def test_state_hooks_fire_once_per_entry(env):
    hm = RecordingHM()
    spec = DriverSpec(role="hm", name="hm", driver="rec")
    ctx = DriverContext(role="hm", name="hm", var_dir=str(env.var))
    env.drivers.drivers[("hm", "hm")] = LoadedDriver(
        spec, make_plugin_manager("hm", hm, "hm:rec"), ctx
    )
    manager = HookManager.from_entries(
        [
            {"NAME": "c", "ON": "CREATE", "COMMAND": "/bin/c", "ARGUMENTS": "$NAME $VMID"},
            {
                "NAME": "r",
                "ON": "RUNNING",
                "COMMAND": "/bin/r",
                "ARGUMENTS": "one-$VMID",
                "REMOTE": "yes",
            },
            {"NAME": "s", "ON": "SHUTDOWN", "COMMAND": "/bin/s"},
            {"NAME": "st", "ON": "STOP", "COMMAND": "/bin/st"},
            {"NAME": "d", "ON": "DONE", "COMMAND": "/bin/d", "ARGUMENTS": "$VMID"},
        ],
        executor=env.engine.work.executor_for("hook"),  # as oned wires it
    )
    hooks = ManagerHooks(manager, env.drivers, str(env.var), env.engine.outbox)
    env.engine.pool.hooks = hooks
    vid = env.allocate("NAME=web\n")
    env.running(vid)
    env.act("stop", vid)
    env.engine.action("resume", vid)
    env.running(vid)
    env.act("shutdown", vid)
    manager.shutdown(wait=True)
    names = [c[1] for c in hm.calls]
    assert names == ["c", "r", "st", "r", "s", "d"]
    assert hm.calls[0] == (vid, "c", None, "/bin/c", ["web", str(vid)])
    assert hm.calls[1] == (vid, "r", "node1", "/bin/r", [f"one-{vid}"])
    assert hm.calls[-1] == (vid, "d", None, "/bin/d", [str(vid)])
