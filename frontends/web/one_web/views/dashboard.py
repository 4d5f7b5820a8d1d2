"""The dashboard: hosts and VMs by state, capacity, recent failures, the cloud's totals over time."""

from __future__ import annotations

from collections import Counter
from typing import Any

from starlette.responses import JSONResponse, Response

from one_core.api import HostState, LcmState, VmState
from one_web import documents
from one_web.views.common import Ctx, live_part, view

ALL = -2
"""``one.vmpool.info`` filter: every VM the caller may see (oneadmin: all; a user: theirs)."""
NOT_DONE = -1
RECENT_FAILURES = 10


def summary(ctx: Ctx) -> dict[str, Any]:
    """Counts, totals and failures (plain data: also the live part's ETag source)."""
    hosts = documents.hosts(ctx.api.doc("one.hostpool.info"))
    vms = documents.vms(ctx.api.doc("one.vmpool.info", ALL, -1, -1, NOT_DONE))
    failed = documents.vms(ctx.api.doc("one.vmpool.info", ALL, -1, -1, int(VmState.FAILED)))
    failures = [
        {"kind": "vm", "id": v["id"], "name": v["name"], "state": v["state_text"]}
        for v in failed[-RECENT_FAILURES:][::-1]
    ]
    failures += [
        {"kind": "vm", "id": v["id"], "name": v["name"], "state": v["state_text"]}
        for v in vms
        if v["state"] == VmState.ACTIVE and v["lcm_state"] in (LcmState.FAILURE, LcmState.UNKNOWN)
    ]
    failures += [
        {"kind": "host", "id": h["id"], "name": h["name"], "state": h["state_text"]}
        for h in hosts
        if h["state"] == HostState.ERROR
    ]
    vm_states = Counter(v["state_text"] for v in vms)
    if failed:
        vm_states["FAILED"] = len(failed)
    return {
        "hosts_by_state": sorted(Counter(h["state_text"] for h in hosts).items()),
        "vms_by_state": sorted(vm_states.items()),
        "hosts": len(hosts),
        "vms": len(vms),
        "cpu": {
            "total": sum(h["max_cpu"] for h in hosts),
            "allocated": sum(h["cpu_usage"] for h in hosts),
            "used": sum(h["used_cpu"] for h in hosts),
        },
        "mem": {
            "total": sum(h["max_mem"] for h in hosts),
            "allocated": sum(h["mem_usage"] for h in hosts),
            "used": sum(h["used_mem"] for h in hosts),
        },
        "failures": failures,
    }


@view()
def dashboard(ctx: Ctx) -> Response:
    return ctx.render("dashboard.html", s=summary(ctx))


dashboard_live = live_part(
    "parts/dashboard_live.html", lambda ctx: {"s": summary(ctx)}, name="dashboard_live"
)


def cloud_series(records: list[dict[str, int]], step: int = 1) -> dict[str, list[int]]:
    """The cloud's totals per monitoring time: every host's latest record at that time summed.

    Times are bucketed by ``step`` seconds; a host missing from a bucket counts with
    its previous record, so a total does not dip between two hosts' monitorings.
    """
    keys = ("max_cpu", "cpu_usage", "used_cpu", "max_mem", "mem_usage", "used_mem")
    latest: dict[int, dict[str, int]] = {}
    series: dict[str, list[int]] = {"time": [], **{k: [] for k in keys}}
    for bucket, group in _buckets(records, step):
        for r in group:
            latest[r["hid"]] = r
        series["time"].append(bucket)
        for k in keys:
            series[k].append(sum(r.get(k, 0) for r in latest.values()))
    return series


def _buckets(records: list[dict[str, int]], step: int) -> list[tuple[int, list[dict[str, int]]]]:
    out: list[tuple[int, list[dict[str, int]]]] = []
    for r in records:
        bucket = r["time"] - r["time"] % max(step, 1)
        if out and out[-1][0] == bucket:
            out[-1][1].append(r)
        else:
            out.append((bucket, [r]))
    return out


@view()
def cloud_monitoring(ctx: Ctx) -> Response:
    """JSON for the totals plot: the last ``seconds`` (default an hour)."""
    seconds = ctx.query_int("seconds", 3600)
    records = documents.monitoring(ctx.api.doc("one.hostpool.monitoring", seconds))
    return JSONResponse(cloud_series(records, step=max(1, seconds // 600)))
