"""``occi-compute`` (spec cloud-apis §6.2): list, create, show, update, delete."""

from __future__ import annotations

from one_occi.tools.common import (
    OCCIClient,
    Reply,
    ToolError,
    create_handler,
    id_handler,
    list_handler,
    make_command,
    read_xml_arg,
    run,
    usage,
    xml_text,
)

TOOL = "occi-compute"
USAGE = usage(
    """
occi-compute <COMMAND> [OPTIONS] [ARGUMENTS]

COMMANDS

list
    lists available VMs

create <occi xml file>
    creates a new VM described by the provided <occi xml file>

show <vm id>
    retrieves the OCCI XML representation of the VM identified by <vm id>

update <occi xml file>
    updates the representation of the VM with the one in <occi xml file>

delete <vm id>
    deletes the VM identified by <vm id>
"""
)


def _update(client: OCCIClient, arg: str | None) -> Reply:
    body = read_xml_arg(arg, f"{TOOL} update: missing OCCI-XML or file not found")
    vid = xml_text(body, "ID")
    if not vid:
        raise ToolError(f"{TOOL} update: missing ID in the OCCI-XML")
    return client.xml("PUT", f"/compute/{vid}", body)


COMMAND = make_command(
    TOOL,
    {
        "list": list_handler("/compute"),
        "create": create_handler("/compute", f"{TOOL} create: missing OCCI-XML or file not found"),
        "show": id_handler("GET", "/compute", f"{TOOL} show: missing VM-ID parameter"),
        "update": _update,
        "delete": id_handler("DELETE", "/compute", f"{TOOL} delete: missing VM-ID parameter"),
    },
)


def main(argv: list[str] | None = None) -> None:
    run(TOOL, COMMAND, USAGE, argv)
