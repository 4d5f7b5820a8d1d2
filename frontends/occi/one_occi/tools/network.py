"""``occi-network`` (spec cloud-apis §6.2): list, create, show, delete."""

from __future__ import annotations

from one_occi.tools.common import OCCIClient, Reply, ToolError, make_command, read_file_arg, run

TOOL = "occi-network"
USAGE = """
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

OPTIONS

-h, --help:
    show help

--username <id>, -U <id>:
    The username of the user

--password <key>, -P <key>:
    The password of the user

--url <url>, -R <url>:
    Set url as the web service url to use

--debug, -D
    Enables verbosity

--exit-zero
    Exit 0 whatever the server answers (1.4's behaviour); also OCCI_EXIT_ZERO=yes
"""


def _list(client: OCCIClient, _arg: str | None) -> Reply:
    return client.request("GET", "/network")


def _create(client: OCCIClient, arg: str | None) -> Reply:
    body = read_file_arg(arg)
    if body is None:
        raise ToolError(f"{TOOL} create: missing OCCI-XML or file not found")
    return client.xml("POST", "/network", body)


def _show(client: OCCIClient, arg: str | None) -> Reply:
    if not arg:
        raise ToolError(f"{TOOL} show: missing NETWORK-ID or file not found")
    return client.request("GET", f"/network/{arg}")


def _delete(client: OCCIClient, arg: str | None) -> Reply:
    if not arg:
        raise ToolError(f"{TOOL} delete: missing NETWORK-ID parameter")
    return client.request("DELETE", f"/network/{arg}")


COMMAND = make_command(TOOL, {"list": _list, "create": _create, "show": _show, "delete": _delete})


def main(argv: list[str] | None = None) -> None:
    run(TOOL, COMMAND, USAGE, argv)
