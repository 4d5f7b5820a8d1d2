"""A scheduling cycle: worked example §3.8, ties, reservations, logs, no-match."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable

import pytest
from one_sched_rank.plugin import sched_place
from one_sched_rank.policy import STATE_KEY

from one_core.context import DriverContext
from one_core.drivers import DriverSpec, load_drivers_from_specs
from one_core.placement import HostSnapshot, PendingVM, Placement


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.one_module, record.levelname[0], record.getMessage()))


@pytest.fixture()
def ctx() -> DriverContext:
    logger = logging.getLogger(f"test.sched_rank.{id(object())}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    rec = Recorder()
    logger.addHandler(rec)
    vm_logs: list[tuple[int, str, str, str]] = []
    c = DriverContext(
        role="sched", name="rank", log=logger, vm_log_func=lambda *a: vm_logs.append(a)
    )
    c.state["lines"] = rec.lines
    c.state["vm_logs"] = vm_logs
    return c


def host(
    hid: int,
    total_cpu: int = 400,
    free_cpu: int = 400,
    total_mem: int = 2048000,
    free_mem: int = 2048000,
    cpu_usage: int = 0,
    mem_usage: int = 0,
    **tmpl: str,
) -> HostSnapshot:
    template = {
        "TOTALCPU": str(total_cpu),
        "FREECPU": str(free_cpu),
        "TOTALMEMORY": str(total_mem),
        "FREEMEMORY": str(free_mem),
        **tmpl,
    }
    return HostSnapshot(
        hid=hid,
        name=f"host{hid}",
        template=template,
        max_cpu=total_cpu,
        max_mem=total_mem,
        cpu_usage=cpu_usage,
        mem_usage=mem_usage,
        free_cpu=free_cpu,
        free_mem=free_mem,
    )


def vm(vid: int, cpu: str = "1", memory: str = "512", **tmpl: str) -> PendingVM:
    template = {"CPU": cpu, "MEMORY": memory, **tmpl}
    return PendingVM(vid=vid, uid=0, template=template)


def worked_example_hosts() -> list[HostSnapshot]:
    return [
        host(0, 400, 395, 2048000, 1500000, cpu_usage=50, mem_usage=131072, ARCH="x86_64"),
        host(3, 200, 200, 1024000, 900000, ARCH="x86_64"),
    ]


def test_worked_example(ctx: DriverContext, logged_cycle: Callable[[str, str, str], list]) -> None:
    hosts = worked_example_hosts()
    before = copy.deepcopy(hosts)
    vm5 = vm(5, REQUIREMENTS='ARCH = "x86_64"', RANK="FREECPU")
    assert sched_place(ctx=ctx, pending=[vm5], hosts=hosts) == [Placement(5, 0)]
    assert hosts == before  # the caller's figures are untouched
    lines = ctx.state["lines"]
    expected = logged_cycle("0 3", "5", "Virtual Machine: 5\n\t1\t0\n\t0.506329\t3\n")
    assert [line for line in expected if line not in lines] == []
    assert lines[-1] == ("SCHED", "I", "Dispatching virtual machine 5 to HID: 0")


def test_worked_example_without_rank_picks_highest_id(ctx: DriverContext) -> None:
    vm5 = vm(5, REQUIREMENTS='ARCH = "x86_64"')
    assert sched_place(ctx=ctx, pending=[vm5], hosts=worked_example_hosts()) == [Placement(5, 3)]
    assert ("RANK", "W", "No rank defined for VM") in ctx.state["lines"]


def test_ties_go_to_the_highest_host_id_even_beyond_16(ctx: DriverContext) -> None:
    hosts = [host(h) for h in range(40)]
    vms = [vm(v, RANK="TOTALCPU") for v in range(3)]
    assert sched_place(ctx=ctx, pending=vms, hosts=hosts) == [
        Placement(0, 39),
        Placement(1, 39),
        Placement(2, 39),
    ]


def test_reservation_within_a_cycle(ctx: DriverContext) -> None:
    # host 1 ranks first but has room for two 1-CPU VMs only (400 - 200 used).
    hosts = [host(0, free_cpu=100), host(1, free_cpu=300, cpu_usage=200)]
    vms = [vm(v, RANK="FREECPU") for v in (7, 8, 9, 10)]
    placed = sched_place(ctx=ctx, pending=vms, hosts=hosts)
    assert placed == [Placement(7, 1), Placement(8, 1), Placement(9, 0), Placement(10, 0)]


def test_free_figures_are_not_rechecked_at_dispatch(ctx: DriverContext) -> None:
    # free memory allows one VM; the allocation share allows three: 1.4 places three.
    hosts = [host(0, free_mem=600000)]
    placed = sched_place(ctx=ctx, pending=[vm(1), vm(2), vm(3)], hosts=hosts)
    assert [p.vid for p in placed] == [1, 2, 3]


def test_cpu_rounding_quirk_admits_a_host(ctx: DriverContext) -> None:
    # free_cpu 1 rounds up to 100, so a CPU=1 VM fits.
    assert sched_place(ctx=ctx, pending=[vm(1)], hosts=[host(0, free_cpu=1)]) == [Placement(1, 0)]
    assert sched_place(ctx=ctx, pending=[vm(2)], hosts=[host(0, free_cpu=0)]) == []


def test_never_monitored_host_takes_only_zero_demand(ctx: DriverContext) -> None:
    fresh = HostSnapshot(hid=4, name="new")
    assert sched_place(ctx=ctx, pending=[vm(1), vm(2, memory="0")], hosts=[fresh]) == [
        Placement(2, 4)
    ]


def test_negative_and_mixed_ranks_normalise_by_absolute_maximum(ctx: DriverContext) -> None:
    hosts = [host(0, X="-10"), host(1, X="5"), host(2, X="0")]
    sched_place(ctx=ctx, pending=[vm(1, RANK="X")], hosts=hosts)
    block = next(m for mod, lvl, m in ctx.state["lines"] if m.startswith("Select hosts"))
    assert block.endswith("Virtual Machine: 1\n\t0.5\t1\n\t0\t2\n\t-1\t0\n")


def test_requirements_syntax_error(ctx: DriverContext) -> None:
    hosts = [host(0), host(1)]
    placed = sched_place(ctx=ctx, pending=[vm(3, REQUIREMENTS="CPU >= 1")], hosts=hosts)
    assert placed == []
    err = (
        "HOST",
        "E",
        "Error evaluating expresion: CPU >= 1, error: syntax error, unexpected "
        "'=', expecting INTEGER or FLOAT at line 1, columns 5:6",
    )
    assert err in ctx.state["lines"]
    ((vid, module, level, message),) = ctx.state["vm_logs"]
    assert (vid, module, level) == (3, "SCHED", "I")
    assert "error in REQUIREMENTS" in message


def test_rank_error_still_uses_the_stored_value(ctx: DriverContext) -> None:
    hosts = [host(0, free_cpu=300), host(1, free_cpu=100)]
    assert sched_place(ctx=ctx, pending=[vm(1, RANK="FREECPU-5")], hosts=hosts) == [Placement(1, 0)]
    assert any(
        mod == "RANK"
        and lvl == "E"
        and m.startswith("Computing host rank, expression: FREECPU-5, error: syntax error")
        for mod, lvl, m in ctx.state["lines"]
    )


def test_no_match_reason_in_vm_log_once(ctx: DriverContext) -> None:
    hosts = [host(0, HYPERVISOR="xen"), host(1, HYPERVISOR="kvm", free_mem=10)]
    pending = [vm(6, REQUIREMENTS='HYPERVISOR = "kvm"')]
    assert sched_place(ctx=ctx, pending=pending, hosts=hosts) == []
    assert sched_place(ctx=ctx, pending=pending, hosts=hosts) == []
    logs = ctx.state["vm_logs"]
    assert len(logs) == 1  # the same reason is not repeated every cycle
    assert logs[0][3] == (
        "Not scheduled: REQUIREMENTS not met by host(s) 0; not enough free "
        "capacity for CPU=100 MEMORY=524288KB on host(s) 1"
    )
    block = next(m for mod, lvl, m in ctx.state["lines"] if m.startswith("Select hosts"))
    assert block.endswith("Virtual Machine: 6\n")
    assert ctx.state[STATE_KEY] == {6: logs[0][3]}
    # once it is placed, it is forgotten
    sched_place(ctx=ctx, pending=pending, hosts=[host(2, HYPERVISOR="kvm")])
    assert ctx.state[STATE_KEY] == {}


def test_filled_by_earlier_vms_reason(ctx: DriverContext) -> None:
    hosts = [host(0, total_cpu=100, free_cpu=100)]
    assert sched_place(ctx=ctx, pending=[vm(1), vm(2)], hosts=hosts) == [Placement(1, 0)]
    assert ctx.state["vm_logs"][0][0] == 2
    assert "filled by VMs dispatched earlier" in ctx.state["vm_logs"][0][3]


def test_no_hosts_and_no_vms(ctx: DriverContext) -> None:
    assert sched_place(ctx=ctx, pending=[], hosts=[]) == []
    assert ("SCHED", "I", "Select hosts\n\tPRI\tHID\n\t-------------------\n") in ctx.state["lines"]
    assert sched_place(ctx=ctx, pending=[vm(1)], hosts=[]) == []
    assert ctx.state["vm_logs"][-1][3] == "Not scheduled: no enabled host"


def test_log_candidates_limit(ctx: DriverContext) -> None:
    ctx.config = {"LOG_CANDIDATES": "2"}
    sched_place(ctx=ctx, pending=[vm(1)], hosts=[host(h) for h in range(5)])
    block = next(m for mod, lvl, m in ctx.state["lines"] if m.startswith("Select hosts"))
    assert block.endswith("Virtual Machine: 1\n\t0\t4\n\t0\t3\n\t... 3 more hosts\n")
    ctx.config = {"LOG_CANDIDATES": "-1"}
    sched_place(ctx=ctx, pending=[vm(1)], hosts=[host(h) for h in range(30)])
    block = [m for mod, lvl, m in ctx.state["lines"] if m.startswith("Select hosts")][-1]
    assert block.count("\n\t0\t") == 30


def test_fields_take_precedence_over_template(ctx: DriverContext) -> None:
    pvm = PendingVM(
        vid=1,
        uid=0,
        template={"CPU": "1", "MEMORY": "512"},
        requirements='ARCH = "arm"',
        rank="",
        cpu="1",
        memory="512",
    )
    assert sched_place(ctx=ctx, pending=[pvm], hosts=[host(0, ARCH="x86_64")]) == []


def test_loads_through_the_entry_point() -> None:
    drivers = load_drivers_from_specs([DriverSpec(role="sched", name="rank", driver="rank")])
    sched = drivers.scheduler
    assert sched is not None
    assert sched.implements("sched_place")
    placed = sched.call(
        "sched_place", pending=[vm(5, RANK="FREECPU")], hosts=worked_example_hosts()
    )
    assert placed == [Placement(5, 0)]


def test_negative_demand_frees_capacity_for_later_vms(ctx: DriverContext) -> None:
    # CPU=-1 gives a demand of -100: 1.4 "reserves" it, which frees room on the host.
    hosts = [host(0, free_cpu=400, cpu_usage=300), host(1, free_cpu=100)]
    vms = [
        vm(1, RANK="FREECPU"),
        vm(2, RANK="FREECPU"),
        vm(3, cpu="-1", memory="1", RANK="FREECPU"),
        vm(4, RANK="FREECPU"),
    ]
    assert sched_place(ctx=ctx, pending=vms, hosts=hosts) == [
        Placement(1, 0),
        Placement(2, 1),
        Placement(3, 0),
        Placement(4, 0),
    ]


def test_priorities_that_round_together_tie_on_host_id(ctx: DriverContext) -> None:
    # 513867759 > 513867721, but divided by |-1000000007| both give the same C float:
    # the tie then goes to the higher host id (host 1), as with std::sort in 1.4.
    hosts = [host(0, X="513867759"), host(1, X="513867721"), host(2, X="-1000000007")]
    pending = [vm(1, RANK="X")]
    sched_place(ctx=ctx, pending=pending, hosts=hosts)
    block = next(m for mod, lvl, m in ctx.state["lines"] if m.startswith("Select hosts"))
    assert block.endswith("Virtual Machine: 1\n\t0.513868\t1\n\t0.513868\t0\n\t-1\t2\n")
    assert ctx.state["lines"][-1][2] == "Dispatching virtual machine 1 to HID: 1"
