"""Commit, then issue (issue 15) and what an event leaves when it is rolled back (issue 17):
vm.log lines only with the attempt that commits, an allocation rolled back as a whole,
and the previous host's driver for the actions on the previous host."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from one_core.db.vm_models import VMRow
from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.engine.outbox import Outbox


def test_a_retried_event_writes_its_vm_log_lines_once(env):
    """An event rolled back by a database failure and retried: its lines are written
    by the attempt that commits, not by both."""
    vid = env.allocate()
    env.settle()
    attempts: list[int] = []

    def event() -> None:
        attempts.append(1)
        env.engine.vm_log(vid, "DiM", "I", "line of the retried event")
        if len(attempts) == 1:
            raise sqlite3.OperationalError("database is locked")  # transient: retried

    env.engine.dispatcher.retry_first = 0.01
    env.engine.dispatcher.post(event)
    env.settle()
    assert len(attempts) == 2
    assert env.log(vid).count("line of the retried event") == 1


def test_a_failed_event_keeps_its_vm_log_lines(env):
    """An event that fails for good (not retried) still leaves its lines: they explain it."""
    vid = env.allocate()

    def event() -> None:
        env.engine.vm_log(vid, "DiM", "E", "why it failed")
        raise RuntimeError("failed for good")

    with pytest.raises(RuntimeError):
        env.engine.dispatcher.call(event)
    env.settle()
    assert env.log(vid).count("why it failed") == 1


def test_an_allocation_is_rolled_back_with_its_context(env, monkeypatch):
    """The row, its CONTEXT and what memory holds of the VM go together: a failure while
    resolving the CONTEXT leaves no VM behind."""
    rows = VMRow.select().count()

    def broken(vm: Any, context: Any) -> Any:
        raise RuntimeError("context failure injected")

    monkeypatch.setattr(env.pool, "resolve_context", broken)
    with pytest.raises(RuntimeError):
        env.allocate('NAME = "ctx"\nCONTEXT = [ HOSTNAME = "$NAME" ]\n')
    monkeypatch.undo()
    env.settle()
    assert VMRow.select().count() == rows  # before: the row committed, without its CONTEXT
    vid = env.allocate('NAME = "ok"\nCONTEXT = [ HOSTNAME = "$NAME" ]\n')
    env.settle()
    assert env.vm(vid).name == "ok"
    assert env.on_dispatcher(lambda: [v for v in range(vid) if env.pool.get(v) is None]) == [
        v for v in range(vid) if VMRow.get_or_none(VMRow.oid == v) is None
    ]


def test_cancel_on_the_previous_host_uses_its_driver_and_host(env):
    """A VM deleted while migrating: the CANCEL on the previous host runs under the
    previous host's driver timeout and counts against that host's limit."""
    extra = load_drivers_from_specs(
        [DriverSpec(role="vmm", name="vmm_short", driver="dummy", section={"TIMEOUT_CANCEL": "7"})],
        var_dir=str(env.var),
    )
    env.drivers.drivers[("vmm", "vmm_short")] = extra.get("vmm", "vmm_short")
    source = env.hosts.allocate("source", "im_dummy", "vmm_short", "tm_dummy")
    vid = env.allocate()
    env.running(vid, source)
    issued: list[Any] = []
    executor = env.engine.executor
    real = executor.issue

    def record(calls: list[Any]) -> None:
        issued.extend(calls)
        real(calls)

    executor.issue = record  # type: ignore[method-assign]
    gate = env.gate(vid)  # the live migration waits: the VM stays in MIGRATE
    env.engine.migrate(vid, env.node2, True)
    assert env.states(vid) == ("ACTIVE", "MIGRATE")
    env.engine.action("finalize", vid)
    gate.open()
    env.settle()
    infos = {task.label: task.info for task in issued}
    assert infos["CANCEL_PREVIOUS"].host == "source"
    assert infos["CANCEL_PREVIOUS"].timeout == 7.0  # vmm_short's TIMEOUT_CANCEL
    assert infos["CANCEL"].host == "node2"
    assert infos["CANCEL"].timeout == 120.0  # vmm_dummy: the role's default


def test_outbox_outside_an_event_runs_at_once_and_holds_nothing():
    box = Outbox()
    ran: list[str] = []
    box.after_commit(ran.append, "now")
    box.on_rollback(ran.append, "never")
    assert not box.add_line(lambda *a: None, 1, "X", "I", "line")
    assert ran == ["now"]


def test_outbox_undo_drops_only_the_failed_event():
    box = Outbox()
    issued: list[Any] = []
    dropped: list[Any] = []
    lines: list[str] = []

    class Sink:
        def issue(self, calls: list[Any]) -> None:
            issued.extend(calls)

        def drop(self, calls: list[Any]) -> None:
            dropped.extend(calls)

    sink = Sink()
    write = lambda vid, module, level, message: lines.append(message)  # noqa: E731
    ran: list[str] = []
    box.open()
    box.add_call(sink, "first call")
    box.add_line(write, 1, "X", "I", "first line")
    box.after_commit(ran.append, "first after")
    mark = box.mark()
    box.add_call(sink, "second call")
    box.add_line(write, 2, "X", "I", "second line")
    box.after_commit(ran.append, "second after")
    box.on_rollback(ran.append, "second undone")
    box.undo(mark)
    box.close(True)
    assert issued == ["first call"] and dropped == ["second call"]
    assert lines == ["first line"]
    assert ran == ["second undone", "first after"]
