"""``occi-compute`` (spec cloud-apis §6.2): list, create, show, update, delete."""

from __future__ import annotations

import defusedxml.ElementTree as DET

from one_occi.tools.common import OCCIClient, Reply, ToolError, make_command, read_file_arg, run

TOOL = "occi-compute"
USAGE = """
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
    return client.request("GET", "/compute")


def _create(client: OCCIClient, arg: str | None) -> Reply:
    body = read_file_arg(arg)
    if body is None:
        raise ToolError(f"{TOOL} create: missing OCCI-XML or file not found")
    return client.xml("POST", "/compute", body)


def _show(client: OCCIClient, arg: str | None) -> Reply:
    if not arg:
        raise ToolError(f"{TOOL} show: missing VM-ID parameter")
    return client.request("GET", f"/compute/{arg}")


def _update(client: OCCIClient, arg: str | None) -> Reply:
    body = read_file_arg(arg)
    if body is None:
        raise ToolError(f"{TOOL} update: missing OCCI-XML or file not found")
    try:
        vid = (DET.fromstring(body).findtext("ID") or "").strip()
    except Exception:
        vid = ""
    if not vid:
        raise ToolError(f"{TOOL} update: missing ID in the OCCI-XML")
    return client.xml("PUT", f"/compute/{vid}", body)


def _delete(client: OCCIClient, arg: str | None) -> Reply:
    if not arg:
        raise ToolError(f"{TOOL} delete: missing VM-ID parameter")
    return client.request("DELETE", f"/compute/{arg}")


COMMAND = make_command(
    TOOL,
    {"list": _list, "create": _create, "show": _show, "update": _update, "delete": _delete},
)


def main(argv: list[str] | None = None) -> None:
    run(TOOL, COMMAND, USAGE, argv)
