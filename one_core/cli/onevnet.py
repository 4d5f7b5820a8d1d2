"""``onevnet``: virtual networks (spec §6.7), compatible with the 1.4 tool byte for byte."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from one_core.cli import fmt, xmldoc
from one_core.cli.base import (
    VNET,
    Runtime,
    Tool,
    error,
    expand_args,
    make_group,
    out,
    tool_command,
    tool_main,
)
from one_core.cli.onevm import pool_filter
from one_core.cli.session import CallError
from one_core.cli.table import BOLD, RESET, UNDERLINE, Column, Table

group = make_group("onevnet", "Manage OpenNebula virtual networks (1.4 compatible).")

_TYPES = {0: "Ranged", 1: "Fixed"}


def _type(vnet: Element) -> str:
    value = xmldoc.text(vnet, "TYPE")
    return _TYPES.get(fmt.to_i(value), "") if value else ""


VNET_TABLE = Table(
    [
        Column("id", "ID", 4, "ONE identifier for virtual network",
               lambda n: xmldoc.text(n, "ID")),
        Column("name", "NAME", 15, "name of the virtual network",
               lambda n: xmldoc.text(n, "NAME"), left=True),
        Column("user", "USER", 8, "Username of the virtual network owner",
               lambda n: xmldoc.text(n, "USERNAME"), left=True),
        Column("type", "TYPE", 6, "NType of virtual network", _type),
        Column("size", "SIZE", 6, "Number of hosts (free + used) in the virtual network",
               lambda n: xmldoc.text(n, "SIZE")),
        Column("bridge", "BRIDGE", 6, "Bridge associated to the virtual network",
               lambda n: xmldoc.text(n, "BRIDGE")),
        Column("totalleases", "#LEASES", 7, "Number of this virtual network's given leases",
               lambda n: xmldoc.text(n, "TOTAL_LEASES")),
    ],
    ["id", "user", "name", "type", "bridge", "totalleases"],
)  # fmt: skip


@tool_command(group, "create", "Create a virtual network from a template file.", "<template>")
def create(rt: Runtime, args: list[str]) -> None:
    rt.create_from_file(args, "vn.allocate")


def _pad80(title: str) -> str:
    return f"{title:<80}"


def show_text(vnet: Element) -> str:
    """The ``onevnet show`` text (newline-terminated)."""
    line = "%-10s: %-20s"
    lines = [
        BOLD + UNDERLINE + _pad80(f"VIRTUAL NETWORK {xmldoc.text(vnet, 'ID')} INFORMATION") + RESET,
        line % ("ID: ", xmldoc.text(vnet, "ID")),
        line % ("UID: ", xmldoc.text(vnet, "UID")),
        "",
        BOLD + _pad80("VIRTUAL NETWORK TEMPLATE") + RESET,
        xmldoc.template_str(vnet.find("TEMPLATE"), indented=False),
    ]  # fmt: skip
    leases = vnet.find("LEASES")
    if leases is not None and len(leases):
        lines += [
            "",
            BOLD + _pad80("LEASES INFORMATION") + RESET,
            xmldoc.template_str(leases, indented=False),
        ]
    return "\n".join(lines) + "\n"


@tool_command(group, "show", "Show information about virtual networks.", "<network>...", (VNET,))
def show(rt: Runtime, args: list[str]) -> None:
    rt.check_parameters(args, "show", 1)
    shown = []
    for arg in expand_args(args):
        nid = rt.resolve(VNET, arg)
        try:
            vnet = xmldoc.parse(str(rt.call("vn.info", int(nid))))
        except (CallError, xmldoc.XmlError) as exc:
            message = getattr(exc, "message", str(exc))
            out(f"Error: {message}")  # 1.4 prints the error here and again at the end
            error(message)
        if rt.opts.json:
            shown.append(xmldoc.to_data(vnet))
        elif rt.opts.xml:
            out(xmldoc.pretty(vnet))
        else:
            out(show_text(vnet), end="")
    if rt.opts.json:
        rt.print_json(shown[0] if len(shown) == 1 else shown)


@tool_command(group, "delete", "Remove virtual networks.", "<network>...", (VNET,))
def delete(rt: Runtime, args: list[str]) -> None:
    rt.check_parameters(args, "delete", 1)
    last_error: str | None = None
    for arg in expand_args(args):
        nid = rt.resolve(VNET, arg)
        try:
            rt.call("vn.delete", int(nid))
        except CallError as exc:
            last_error = exc.message  # 1.4 goes on with the next network
            continue
        rt.say("Virtual Network deleted")
        return  # 1.4 stops after the first deleted network
    if last_error is not None:
        error(last_error)


@tool_command(group, "list", "List virtual networks (filter: a|all, m|mine, uid, user).",
              "[filter]")  # fmt: skip
def list_(rt: Runtime, args: list[str]) -> None:
    flag, username = pool_filter(args)
    pool = rt.fetch("vnpool.info", flag)
    vnets = [n for n in pool if username is None or xmldoc.text(n, "USERNAME") == username]
    rt.print_listing(VNET_TABLE, pool, vnets)


TOOL = Tool("onevnet", group, VNET_TABLE)


def main(argv: list[str] | None = None) -> int:
    """Console entry point of ``onevnet``."""
    tool_main(TOOL, argv)


if __name__ == "__main__":
    main()
