"""``occi-network`` (spec cloud-apis §6.2): list, create, show, delete."""

from __future__ import annotations

from one_occi.tools.common import id_handler, make_command, resource_handlers, run, usage

TOOL = "occi-network"
USAGE = usage(
    """
occi-network <COMMAND> [OPTIONS] [ARGUMENTS]

COMMANDS

create <occi xml file>
    creates a new virtual network described by the provided <occi xml file>

list
    lists available virtual networks

show <network id>
    retrieves the OCCI XML representation of the virtual network identified by <network id>

delete <network id>
    deletes the virtual network identified by <network id>
"""
)


COMMAND = make_command(
    TOOL,
    {
        **resource_handlers(TOOL, "/network", "NETWORK-ID"),
        # 1.4's message for a missing id of show, kept as it was
        "show": id_handler("GET", "/network", f"{TOOL} show: missing NETWORK-ID or file not found"),
    },
)


def main(argv: list[str] | None = None) -> None:
    run(TOOL, COMMAND, USAGE, argv)
