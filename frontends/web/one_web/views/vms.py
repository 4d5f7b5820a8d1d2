"""VMs: the paged list, the detail page (template, history, log), actions and creation."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from one_core.api import VmState
from one_web import documents
from one_web.oned import OneClientError
from one_web.views.common import Ctx, HttpError, live_part, view
from one_web.views.confirm import needs_confirmation
from one_web.views.template_form import allocate_from_form, numbered_lines
from one_web.views.vm_actions import ACTIONS, MODERN_NAME, available, progress

ALL_VISIBLE = -2
"""``one.vmpool.info`` filter: every VM the caller may see."""
STATE_FILTERS: dict[str, tuple[str, int]] = {
    "": ("Not done", -1),
    "any": ("Any (with DONE)", -2),
    **{s.name.lower(): (s.name.capitalize(), int(s)) for s in VmState},
}
"""``?state=`` value → (label, the ``one.vmpool.info`` state argument)."""


def _page(ctx: Ctx) -> dict[str, Any]:
    """One page of the VM list, paged in oned's SQL (``one.vmpool.info(filter, offset, -n, state)``)."""
    state = ctx.query("state")
    if state not in STATE_FILTERS:
        raise HttpError(400, f"Unknown state filter {state!r}")
    page = max(0, ctx.query_int("page", 0))
    size = ctx.web.settings.page_size
    pool = ctx.api.doc(
        "one.vmpool.info", ALL_VISIBLE, page * size, -(size + 1), STATE_FILTERS[state][1]
    )
    rows = documents.vms(pool)
    for v in rows:
        for key in ("template", "histories"):
            v.pop(key)
    return {"state": state, "page": page, "vms": rows[:size], "more": len(rows) > size}


@view()
def vm_list(ctx: Ctx) -> Response:
    return ctx.render("vms.html", filters=STATE_FILTERS, **_page(ctx))


vm_list_live = live_part("parts/vms_table.html", _page, name="vm_list_live")


def _vm(ctx: Ctx, vid: int) -> dict[str, Any]:
    vm = documents.vm(ctx.api.doc("one.vm.info", vid))
    vm["actions"] = [a.name for a in available(vm["state"], vm["lcm_state"], ctx.session.is_admin)]
    vm["progress"] = progress(vm["state_text"])
    return vm


def _hosts_for(ctx: Ctx, vm: dict[str, Any]) -> list[dict[str, Any]]:
    if not any(ACTIONS[a].needs_host for a in vm["actions"]):
        return []
    return [
        {"id": h["id"], "name": h["name"]}
        for h in documents.hosts(ctx.api.doc("one.hostpool.info"))
    ]


@view()
def vm_detail(ctx: Ctx) -> Response:
    vm = _vm(ctx, ctx.path_int("vid"))
    return ctx.render("vm.html", vm=vm, actions=ACTIONS, hosts=_hosts_for(ctx, vm))


@view()
def vm_live(ctx: Ctx) -> Response:
    vm = _vm(ctx, ctx.path_int("vid"))
    vm.pop("template")
    hosts = _hosts_for(ctx, vm)
    return ctx.fragment("parts/vm_live.html", [vm, hosts], vm=vm, actions=ACTIONS, hosts=hosts)


@view()
def vm_log(ctx: Ctx) -> Response:
    text = str(ctx.api.call("one.vm.log", ctx.path_int("vid")))
    return ctx.fragment("parts/vm_log.html", text, text=text, vid=ctx.path_int("vid"))


@view()
def vm_action(ctx: Ctx) -> Response:
    """One action on a VM; destructive ones ask for confirmation first."""
    vid = ctx.path_int("vid")
    name = ctx.form.get("action", "")
    action = ACTIONS.get(name)
    back = f"/vms/{vid}"
    if action is None:
        raise HttpError(400, f"No VM action {name!r}")
    if action.destroys:
        asked = needs_confirmation(ctx, f"{action.label} VM {vid}?", back)
        if asked is not None:
            return asked
    try:
        if action.needs_host:
            hid = int(ctx.form.get("hid", "-1"))
            if name == "deploy":
                ctx.api.call("one.vm.deploy", vid, hid)
            else:
                ctx.api.call("one.vm.migrate", vid, hid, name == "livemigrate")
        else:
            ctx.api.call("one.vm.action", MODERN_NAME[name], vid)
    except ValueError:
        return ctx.redirect(back, flash="Choose a host.")
    except OneClientError as exc:
        return ctx.redirect(back, flash=f"{action.label} failed: {exc.message}")
    return ctx.redirect(back, flash=f"{action.label}: requested for VM {vid}.")


EXAMPLE_TEMPLATE = 'NAME   = "web"\nCPU    = 1\nMEMORY = 512\n'


@view()
def vm_new(ctx: Ctx) -> Response:
    return ctx.render("vm_new.html", text=EXAMPLE_TEMPLATE, error=None, lines=[])


@view()
def vm_create(ctx: Ctx) -> Response:
    """Allocate a VM from template text; a syntax error is shown at its line."""
    text, vid, error = allocate_from_form(ctx, "one.vm.allocate", ctx.form.get("hold") == "yes")
    if error is None:
        return ctx.redirect(f"/vms/{vid}", flash=f"VM {vid} created.")
    return ctx.render("vm_new.html", status=400, text=text, error=error, lines=numbered_lines(text))
