"""VM_HOOK configuration, when hooks fire, and what reaches the hook driver (spec §7.1-7.4)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import wait
from pathlib import Path
from typing import Any

import pytest

from one_core.context import DriverContext
from one_core.drivers import DriverSet, DriverSpec, LoadedDriver, make_plugin_manager
from one_core.engine.dispatcher import Dispatcher
from one_core.engine.executor import DriverExecutor
from one_core.engine.work import Work
from one_core.errors import DriverError
from one_core.hookspecs import hookimpl
from one_core.logs import VMLogWriter
from one_core.records import VMRecord
from one_core.template import Template
from one_core.vm.states import LcmState, VmState
from one_core.vm_hooks import HookManager, VMHook, event_for, parse_vm_hooks


class Recorder:
    """An inline hm driver recording every call; fails commands named ``fail``."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @hookimpl
    def hm_execute(self, vid, hook_name, host, command, arguments):  # noqa: ANN001
        with self.lock:
            self.calls.append(
                {"vid": vid, "name": hook_name, "host": host, "command": command, "args": arguments}
            )
        if command == "fail":
            raise DriverError("boom: it failed")
        if command == "crash":
            raise RuntimeError("driver bug")
        return "line one\nline two\n"


@pytest.fixture
def hm(tmp_path: Path) -> tuple[Recorder, DriverSet]:
    plugin = Recorder()
    pm = make_plugin_manager("hm", plugin, "hm:recorder")
    ctx = DriverContext(role="hm", name="exec", vm_log_func=VMLogWriter(str(tmp_path)))
    driver = LoadedDriver(spec=DriverSpec("hm", "exec", "recorder"), pm=pm, ctx=ctx)
    return plugin, DriverSet({("hm", "exec"): driver})


def vm(vid: int = 7, host: str = "node1", **extra: str) -> VMRecord:
    text = f'NAME = "vm{vid}"\nVMID = {vid}\nNIC = [ NETWORK = "Public", IP = "10.0.0.{vid}" ]\n'
    template = Template.parse(text)
    for k, v in extra.items():
        template.add(k, v)
    return VMRecord(vid=vid, uid=0, name=f"vm{vid}", template=template, host=host, vm_dir="/vm")


def vm_log(tmp_path: Path, vid: int = 7) -> str:
    path = tmp_path / str(vid) / "vm.log"
    return path.read_text() if path.exists() else ""


def one_hook(**entry: str) -> HookManager:
    """A manager with the single VM_HOOK ``entry`` (its oned.conf keys as keywords)."""
    return HookManager.from_entries([entry])


def run(manager: HookManager, futures: list) -> None:
    done, _ = wait(futures, timeout=30)
    assert len(done) == len(futures)


# -- configuration -------------------------------------------------------------


def test_parse_vm_hooks_applies_1_4_rules(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    hooks = parse_vm_hooks(
        [
            {
                "NAME": "dhcp",
                "ON": "create",
                "COMMAND": "/bin/echo",
                "ARGUMENTS": "$NAME",
                "REMOTE": "yes",
            },
            {"ON": "Running", "COMMAND": "ebtables-kvm", "ARGUMENTS": "one-$VMID", "REMOTE": "YES"},
            {"on": "done", "command": "/bin/true", "remote": "no"},
            {"ON": "boot", "COMMAND": "/bin/true"},
            {"ON": "", "COMMAND": "/bin/true"},
            {"ON": "stop"},
        ]
    )
    assert hooks == [
        VMHook("dhcp", "CREATE", "/bin/echo", "$NAME", remote=False),  # CREATE is always local
        VMHook("ebtables-kvm", "RUNNING", "ebtables-kvm", "one-$VMID", remote=True),
        VMHook("/bin/true", "DONE", "/bin/true", "", remote=False),
    ]
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "Unkown VM_HOOK BOOT. Hook not registered!",
        "Empty ON or COMMAND attribute in VM_HOOK. Hook not registered!",
        "Empty ON or COMMAND attribute in VM_HOOK. Hook not registered!",
    ]


@pytest.mark.parametrize(
    ("state", "lcm", "event"),
    [
        (VmState.ACTIVE, LcmState.RUNNING, "RUNNING"),
        (VmState.ACTIVE, LcmState.EPILOG, "SHUTDOWN"),
        (VmState.STOPPED, LcmState.LCM_INIT, "STOP"),
        (VmState.DONE, LcmState.LCM_INIT, "DONE"),
        (VmState.ACTIVE, LcmState.BOOT, None),
        (VmState.ACTIVE, LcmState.SHUTDOWN, None),
        (VmState.PENDING, LcmState.LCM_INIT, None),
        (VmState.SUSPENDED, LcmState.LCM_INIT, None),
        (VmState.FAILED, LcmState.LCM_INIT, None),
    ],
)
def test_event_for(state: int, lcm: int, event: str | None) -> None:
    assert event_for(state, lcm) == event


# -- firing ----------------------------------------------------------------------


def test_create_hook_runs_locally_with_expanded_argument_list(
    hm: tuple[Recorder, DriverSet], tmp_path: Path
) -> None:
    plugin, drivers = hm
    manager = one_hook(
        NAME="dhcp",
        ON="CREATE",
        COMMAND="/bin/echo",
        ARGUMENTS="$NAME > /tmp/test.$VMID",
        REMOTE="yes",
    )
    run(manager, manager.fire("create", vm(), drivers))
    assert plugin.calls == [
        {
            "vid": 7,
            "name": "dhcp",
            "host": None,
            "command": "/bin/echo",
            "args": ["vm7", ">", "/tmp/test.7"],
        }
    ]
    assert "[HKM][I]: Hook dhcp successfully executed. line one line two\n" in vm_log(tmp_path)
    manager.shutdown()


def test_remote_hook_gets_the_vm_host_and_is_skipped_without_one(
    hm: tuple[Recorder, DriverSet],
) -> None:
    plugin, drivers = hm
    manager = one_hook(
        ON="RUNNING", COMMAND="/srv/hooks/ebtables-kvm", ARGUMENTS="one-$VMID", REMOTE="yes"
    )
    run(manager, manager.fire("RUNNING", vm(host="node1"), drivers))
    assert manager.fire("RUNNING", vm(host=""), drivers) == []
    assert [(c["host"], c["args"], c["name"]) for c in plugin.calls] == [
        ("node1", ["one-7"], "/srv/hooks/ebtables-kvm")  # NAME defaults to COMMAND
    ]
    manager.shutdown()


def test_failures_and_parse_errors_are_logged_to_vm_log(
    hm: tuple[Recorder, DriverSet], tmp_path: Path
) -> None:
    plugin, drivers = hm
    manager = HookManager.from_entries(
        [
            {"NAME": "bad", "ON": "DONE", "COMMAND": "fail", "ARGUMENTS": "$VMID"},
            {"NAME": "broken", "ON": "DONE", "COMMAND": "crash"},
            {"NAME": "syntax", "ON": "DONE", "COMMAND": "/bin/true", "ARGUMENTS": "$NIC[IP]x"},
            {"NAME": "ok", "ON": "DONE", "COMMAND": "/bin/true"},
        ]
    )
    run(manager, manager.fire("done", vm(), drivers))
    log = vm_log(tmp_path)
    assert "[HKM][E]: Error executing Hook: bad. boom: it failed\n" in log
    assert "[HKM][E]: Error executing Hook: broken. driver bug\n" in log
    assert (
        "[VM][E]: Error parsing: $NIC[IP]x. syntax error, unexpected VARIABLE, expecting EOA "
        "at line 1, columns 8:9\n"
    ) in log
    assert "[HKM][I]: Hook ok successfully executed." in log
    assert sorted(c["name"] for c in plugin.calls) == ["bad", "broken", "ok"]
    assert next(c for c in plugin.calls if c["name"] == "ok")["args"] == []
    manager.shutdown()


def test_without_hm_driver_hooks_are_skipped() -> None:
    manager = one_hook(ON="CREATE", COMMAND="/bin/true")
    assert manager.fire("CREATE", vm(), DriverSet()) == []
    manager.shutdown()


def test_state_changed_fires_on_entering_the_pair_only(hm: tuple[Recorder, DriverSet]) -> None:
    plugin, drivers = hm
    manager = HookManager.from_entries(
        [
            {"NAME": n.lower(), "ON": n, "COMMAND": "/bin/true"}
            for n in ("RUNNING", "SHUTDOWN", "STOP", "DONE")
        ]
    )
    A, L = VmState, LcmState
    sequence = [  # (state, lcm) updates of one VM; prev of the first is "none"
        (A.PENDING, L.LCM_INIT),
        (A.ACTIVE, L.PROLOG),
        (A.ACTIVE, L.BOOT),
        (A.ACTIVE, L.RUNNING),  # RUNNING
        (A.ACTIVE, L.RUNNING),  # same pair again: nothing
        (A.ACTIVE, L.SAVE_STOP),
        (A.ACTIVE, L.EPILOG_STOP),
        (A.STOPPED, L.LCM_INIT),  # STOP
        (A.PENDING, L.LCM_INIT),
        (A.ACTIVE, L.PROLOG_RESUME),
        (A.ACTIVE, L.BOOT),
        (A.ACTIVE, L.RUNNING),  # RUNNING
        (A.ACTIVE, L.SHUTDOWN),
        (A.ACTIVE, L.EPILOG),  # SHUTDOWN
        (A.DONE, L.LCM_INIT),  # DONE
    ]
    prev: tuple[int, int] | None = None
    futures = []
    for state, lcm in sequence:
        futures += manager.state_changed(
            vm(),
            drivers,
            state=state,
            lcm_state=lcm,
            prev_state=prev[0] if prev else None,
            prev_lcm_state=prev[1] if prev else None,
        )
        prev = (state, lcm)
        run(manager, futures)  # keep the order observable
    assert [c["name"] for c in plugin.calls] == ["running", "stop", "running", "shutdown", "done"]
    manager.shutdown()


def test_first_update_fires_too_unlike_1_4(hm: tuple[Recorder, DriverSet]) -> None:
    """Decision: no 'first update after creation/restart' quirk; a VM finalized
    from PENDING without an earlier update still fires DONE."""
    plugin, drivers = hm
    manager = one_hook(ON="DONE", COMMAND="/bin/true")
    run(
        manager,
        manager.state_changed(vm(), drivers, state=VmState.DONE, lcm_state=LcmState.LCM_INIT),
    )
    assert len(plugin.calls) == 1
    manager.shutdown()


def test_other_vm_context_is_read_through_lookup(hm: tuple[Recorder, DriverSet]) -> None:
    plugin, drivers = hm
    other = Template.parse('CONTEXT = [ IP_PUBLIC = "1.2.3.4" ]')
    manager = HookManager.from_entries(
        [{"ON": "CREATE", "COMMAND": "/bin/true", "ARGUMENTS": "$3.IP_PUBLIC $4.IP_PUBLIC"}],
        lookup=lambda vid: other if vid == 3 else None,
    )
    run(manager, manager.fire("CREATE", vm(), drivers))
    assert plugin.calls[0]["args"] == ["1.2.3.4", ""]
    manager.shutdown()


def test_hooks_run_off_the_calling_thread(hm: tuple[Recorder, DriverSet]) -> None:
    _, drivers = hm
    seen: list[str] = []

    class Slow:
        @hookimpl
        def hm_execute(self, vid, hook_name, host, command, arguments):  # noqa: ANN001
            seen.append(threading.current_thread().name)
            return ""

    pm = make_plugin_manager("hm", Slow(), "hm:slow")
    driver = LoadedDriver(DriverSpec("hm", "exec", "slow"), pm, DriverContext(role="hm", name="x"))
    dispatcher = Dispatcher()
    executor = DriverExecutor(dispatcher, threads=2)
    try:  # oned's wiring: the engine's driver executor, through Work
        manager = HookManager.from_entries(
            [{"ON": "CREATE", "COMMAND": "/bin/true"}],
            executor=Work(dispatcher, executor).executor_for("hook"),
        )
        run(manager, manager.fire("CREATE", vm(), driver))
        assert executor.wait_idle(10)
    finally:
        executor.shutdown()
    assert seen and seen[0] != threading.current_thread().name
    assert seen[0].startswith("one-driver")


def test_without_an_executor_hooks_run_in_the_caller(hm: tuple[Recorder, DriverSet]) -> None:
    plugin, drivers = hm
    manager = one_hook(ON="CREATE", COMMAND="/bin/true")
    futures = manager.fire("CREATE", vm(), drivers)
    assert [f.done() for f in futures] == [True] and len(plugin.calls) == 1
