"""Virtual networks: list, leases (who holds which IP), create from a template, delete."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from one_web import documents
from one_web.oned import OneClientError
from one_web.views.common import Ctx, view
from one_web.views.confirm import needs_confirmation
from one_web.views.template_form import allocate_from_form, numbered_lines

MAX_HOLDERS_LOOKED_UP = 200
EXAMPLE_TEMPLATE = (
    'NAME = "lan"\nTYPE = RANGED\nBRIDGE = br0\nNETWORK_ADDRESS = 192.168.100.0\nNETWORK_SIZE = C\n'
)


@view()
def vnet_list(ctx: Ctx) -> Response:
    nets = documents.vnets(ctx.api.doc("one.vnpool.info", -2, -1, -1))
    return ctx.render("vnets.html", nets=nets, text=EXAMPLE_TEMPLATE, error=None, lines=[])


@view()
def vnet_create(ctx: Ctx) -> Response:
    text, nid, error = allocate_from_form(ctx, "one.vn.allocate", -1)
    if error is None:
        return ctx.redirect(f"/vnets/{nid}", flash=f"Network {nid} created.")
    nets = documents.vnets(ctx.api.doc("one.vnpool.info", -2, -1, -1))
    return ctx.render(
        "vnets.html", status=400, nets=nets, text=text, error=error, lines=numbered_lines(text)
    )


def _holders(ctx: Ctx, leases: list[dict[str, Any]]) -> None:
    """Add the holding VM's name and owner to each lease (when the caller may see the VM)."""
    seen: dict[int, dict[str, Any] | None] = {}
    for lease in leases:
        vid = lease["vm"]
        if vid not in seen and len(seen) < MAX_HOLDERS_LOOKED_UP:
            try:
                seen[vid] = documents.vm(ctx.api.doc("one.vm.info", vid))
            except OneClientError:
                seen[vid] = None
        vm = seen.get(vid)
        lease["vm_name"] = vm["name"] if vm else ""
        lease["vm_owner"] = vm["uname"] if vm else ""


@view()
def vnet_detail(ctx: Ctx) -> Response:
    net = documents.vnet(ctx.api.doc("one.vn.info", ctx.path_int("nid")))
    _holders(ctx, net["leases"])
    return ctx.render("vnet.html", net=net)


@view()
def vnet_delete(ctx: Ctx) -> Response:
    nid = ctx.path_int("nid")
    asked = needs_confirmation(ctx, f"Delete virtual network {nid}?", f"/vnets/{nid}")
    if asked is not None:
        return asked
    try:
        ctx.api.call("one.vn.delete", nid)
    except OneClientError as exc:
        return ctx.redirect(f"/vnets/{nid}", flash=f"Delete failed: {exc.message}")
    return ctx.redirect("/vnets", flash=f"Network {nid} deleted.")
