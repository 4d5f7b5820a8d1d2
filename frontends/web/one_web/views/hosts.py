"""Hosts: list with usage bars, detail with monitoring values, plots and VMs; admin actions."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from one_web import documents
from one_web.oned import OneClientError
from one_web.views.common import Ctx, HttpError, live_part, view
from one_web.views.confirm import needs_confirmation

MAX_VMS_SHOWN = 200


def _hosts(ctx: Ctx) -> list[dict[str, Any]]:
    hosts = documents.hosts(ctx.api.doc("one.hostpool.info"))
    for h in hosts:
        h.pop("template")
    return hosts


@view()
def host_list(ctx: Ctx) -> Response:
    return ctx.render("hosts.html", hosts=_hosts(ctx))


host_list_live = live_part(
    "parts/hosts_table.html", lambda ctx: {"hosts": _hosts(ctx)}, name="host_list_live"
)


@view()
def host_create(ctx: Ctx) -> Response:
    name = ctx.form.get("name", "").strip()
    im, vmm = ctx.form.get("im_mad", "").strip(), ctx.form.get("vm_mad", "").strip()
    if not (name and im and vmm):
        return ctx.redirect("/hosts", flash="A host needs a name, an IM driver and a VMM driver.")
    try:
        hid = ctx.api.call("one.host.allocate", name, im, vmm, -1)
    except OneClientError as exc:
        return ctx.redirect("/hosts", flash=f"Could not create the host: {exc.message}")
    return ctx.redirect(f"/hosts/{hid}", flash=f"Host {name} created.")


def _host(ctx: Ctx, hid: int) -> dict[str, Any]:
    host = documents.host(ctx.api.doc("one.host.info", hid))
    vms = []
    for vid in host["vms"][:MAX_VMS_SHOWN]:
        try:
            vms.append(documents.vm(ctx.api.doc("one.vm.info", vid)))
        except OneClientError:  # not the caller's VM
            vms.append({"id": vid, "name": "", "uname": "", "state_text": "", "hidden": True})
    host["vm_rows"] = [{k: v for k, v in vm.items() if k != "template"} for vm in vms]
    return host


@view()
def host_detail(ctx: Ctx) -> Response:
    return ctx.render("host.html", host=_host(ctx, ctx.path_int("hid")))


host_live = live_part(
    "parts/host_live.html", lambda ctx: {"host": _host(ctx, ctx.path_int("hid"))}, name="host_live"
)


@view()
def host_monitoring(ctx: Ctx) -> Response:
    """JSON for the host's plots: time, CPU (max, allocated, used), memory (same)."""
    records = documents.monitoring(ctx.api.doc("one.host.monitoring", ctx.path_int("hid")))
    keys = ("max_cpu", "cpu_usage", "used_cpu", "max_mem", "mem_usage", "used_mem")
    series: dict[str, list[int]] = {"time": [r["time"] for r in records]}
    for k in keys:
        series[k] = [r.get(k, 0) for r in records]
    return JSONResponse(series)


@view(admin=True)
def host_action(ctx: Ctx) -> Response:
    """``enable``, ``disable`` or ``delete`` (confirmed) a host."""
    hid, action = ctx.path_int("hid"), ctx.request.path_params.get("action", "")
    back = f"/hosts/{hid}"
    if action == "delete":
        asked = needs_confirmation(ctx, f"Delete host {hid}?", back)
        if asked is not None:
            return asked
        ctx.api.call("one.host.delete", hid)
        return ctx.redirect("/hosts", flash=f"Host {hid} deleted.")
    if action not in ("enable", "disable"):
        raise HttpError(404, f"No host action {action!r}")
    ctx.api.call("one.host.status", hid, 0 if action == "enable" else 1)
    return ctx.redirect(back, flash=f"Host {hid} {action}d.")
