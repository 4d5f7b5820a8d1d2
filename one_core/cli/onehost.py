"""``onehost``: hosts (spec §6.6), compatible with the 1.4 tool byte for byte."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from one_core.cli import fmt, xmldoc
from one_core.cli.base import (
    HOST,
    Runtime,
    Tool,
    error,
    expand_args,
    fail,
    make_group,
    out,
    tool_command,
    tool_main,
)
from one_core.cli.session import CallError
from one_core.cli.table import BOLD, RESET, UNDERLINE, Column, Table

group = make_group("onehost", "Manage OpenNebula hosts (1.4 compatible).")


def _share(host: Element, name: str) -> str:
    return xmldoc.text(host, f"HOST_SHARE/{name}")


def _free_cpu(host: Element) -> int:
    return fmt.to_i(_share(host, "MAX_CPU")) - fmt.to_i(_share(host, "USED_CPU"))


def _available_cpu(host: Element) -> int:
    max_cpu = fmt.to_i(_share(host, "MAX_CPU")) or 100
    return max_cpu - fmt.to_i(_share(host, "USED_CPU"))


HOST_TABLE = Table(
    [
        Column("id", "ID", 4, "ONE identifier for host", lambda h: xmldoc.text(h, "ID")),
        Column("name", "NAME", 25, "Hostname", lambda h: xmldoc.text(h, "NAME"), left=True),
        Column("rvm", "RVM", 3, "Number of virtual machines running",
               lambda h: _share(h, "RUNNING_VMS")),
        Column("tcpu", "TCPU", 6, "Total cpu percentage", lambda h: _share(h, "MAX_CPU")),
        Column("fcpu", "FCPU", 6, "Free cpu percentage", _free_cpu),
        Column("acpu", "ACPU", 6, "Available cpu percentage (not reserved by VMs)",
               _available_cpu),
        Column("tmem", "TMEM", 7, "Total memory", lambda h: _share(h, "MAX_MEM")),
        Column("fmem", "FMEM", 7, "Free memory", lambda h: _share(h, "FREE_MEM")),
        Column("stat", "STAT", 4, "Host status",
               lambda h: fmt.host_short_state(xmldoc.text(h, "STATE"))),
    ],
    ["id", "name", "rvm", "tcpu", "fcpu", "acpu", "tmem", "fmem", "stat"],
)  # fmt: skip


@tool_command(group, "create", "Add a host to the pool (alias: add).",
              "<hostname> <im_mad> <vmm_mad> <tm_mad>")  # fmt: skip
def create(rt: Runtime, args: list[str]) -> None:
    rt.check_parameters(args, "create", 4)
    hid = rt.call_or_error("host.allocate", *args[:4])
    rt.say(f"ID: {hid}")


def show_text(host: Element, shown_id: str) -> str:
    """The ``onehost show`` text (newline-terminated)."""
    line = "%-22s: %-20s"
    lines = [
        BOLD + UNDERLINE + f"{'HOST ' + shown_id + ' INFORMATION':<80}" + RESET,
        line % ("ID", xmldoc.text(host, "ID")),
        line % ("NAME", xmldoc.text(host, "NAME")),
        line % ("STATE", fmt.pick(fmt.HOST_STATES, fmt.to_i(xmldoc.text(host, "STATE")))),
        line % ("IM_MAD", xmldoc.text(host, "IM_MAD")),
        line % ("VM_MAD", xmldoc.text(host, "VM_MAD")),
        line % ("TM_MAD", xmldoc.text(host, "TM_MAD")),
        "",
        BOLD + f"{'HOST SHARES':<80}" + RESET,
        line % ("MAX MEM", _share(host, "MAX_MEM")),
        line % ("USED MEM (REAL)", _share(host, "USED_MEM")),
        line % ("USED MEM (ALLOCATED)", _share(host, "MEM_USAGE")),
        line % ("MAX CPU", _share(host, "MAX_CPU")),
        line % ("USED CPU (REAL)", _share(host, "USED_CPU")),
        line % ("USED CPU (ALLOCATED)", _share(host, "CPU_USAGE")),
        line % ("RUNNING VMS", _share(host, "RUNNING_VMS")),
        "",
        BOLD + f"{'MONITORING INFORMATION':<80}" + RESET,
        xmldoc.template_str(host.find("TEMPLATE")),
    ]
    return "\n".join(lines) + "\n"


@tool_command(group, "show", "Show information about a host.", "<host>", (HOST,))
def show(rt: Runtime, args: list[str]) -> None:
    rt.check_parameters(args, "show", 1)
    hid = rt.resolve(HOST, args[0])
    host = rt.fetch("host.info", int(hid))
    if rt.opts.json:
        rt.print_json(xmldoc.to_data(host))
    elif rt.opts.xml:
        out(xmldoc.pretty(host))
    else:
        out(show_text(host, hid), end="")


@tool_command(
    group, "delete", "Remove hosts (a host with VMs is disabled instead).", "<host>...", (HOST,)
)
def delete(rt: Runtime, args: list[str]) -> None:
    rt.check_parameters(args, "delete", 1)
    for arg in expand_args(args):
        hid = rt.resolve(HOST, arg)
        host = rt.fetch("host.info", int(hid), on_error=fail)  # 1.4: no "Error: " prefix here
        if fmt.to_i(_share(host, "RUNNING_VMS")) != 0:
            out("Host still has associated VMs. It will be disabled instead.")
            rt.call_or_error("host.enable", int(hid), False)
            rt.say("Host disabled")
            continue
        rt.call_or_error("host.delete", int(hid))
        rt.say("Host deleted")
        return  # 1.4 exits after the first deleted host


def _enable(rt: Runtime, args: list[str], command: str, enable: bool) -> None:
    rt.check_parameters(args, command, 1)
    for arg in expand_args(args):
        hid = rt.resolve(HOST, arg)
        rt.call_or_error("host.enable", int(hid), enable)
        rt.say("Host enabled" if enable else "Host disabled")


@tool_command(group, "enable", "Enable hosts (monitoring and scheduling).", "<host>...", (HOST,))
def enable(rt: Runtime, args: list[str]) -> None:
    _enable(rt, args, "enable", True)


@tool_command(group, "disable", "Disable hosts.", "<host>...", (HOST,))
def disable(rt: Runtime, args: list[str]) -> None:
    _enable(rt, args, "disable", False)


def _list_once(rt: Runtime) -> str | None:
    """Print the host list; return the error message instead when the fetch failed."""
    try:
        pool = xmldoc.parse(str(rt.call("hostpool.info")))
    except (CallError, xmldoc.XmlError) as exc:
        return getattr(exc, "message", str(exc))
    rt.print_listing(HOST_TABLE, pool)
    return None


@tool_command(group, "list", "List the hosts in the pool.")
def list_(rt: Runtime, args: list[str]) -> None:
    message = _list_once(rt)
    if message is not None:
        error(message)


@tool_command(group, "top", "List hosts continuously (every -d seconds).")
def top(rt: Runtime, args: list[str]) -> None:
    last: list[str | None] = [None]

    def once() -> None:
        last[0] = _list_once(rt)

    rt.top(once)
    if last[0] is not None:
        error(last[0])


TOOL = Tool("onehost", group, HOST_TABLE, {"add": "create"})


def main(argv: list[str] | None = None) -> int:
    """Console entry point of ``onehost``."""
    tool_main(TOOL, argv)


if __name__ == "__main__":
    main()
