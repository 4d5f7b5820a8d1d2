"""``occi-compute`` (spec cloud-apis §6.2): list, create, show, update, delete."""

from __future__ import annotations

from one_occi.tools.common import (
    OCCIClient,
    Reply,
    ToolError,
    make_command,
    read_xml_arg,
    resource_handlers,
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


COMMAND = make_command(TOOL, {**resource_handlers(TOOL, "/compute", "VM-ID"), "update": _update})


def main(argv: list[str] | None = None) -> None:
    run(TOOL, COMMAND, USAGE, argv)
