"""``onevm``: virtual machines (spec §6.5), compatible with the 1.4 tool byte for byte."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree.ElementTree import Element

from one_core.cli import fmt, xmldoc
from one_core.cli.base import (
    HOST,
    VM,
    Runtime,
    Tool,
    expand_args,
    fail,
    make_group,
    out,
    tool_command,
    tool_main,
)
from one_core.cli.table import BOLD, RESET, UNDERLINE, Column, Table

group = make_group("onevm", "Manage OpenNebula virtual machines (1.4 compatible).")

VM_TABLE = Table(
    [
        Column("id", "ID", 4, "ONE identifier for the VM", lambda v: xmldoc.text(v, "ID")),
        Column("name", "NAME", 8, "Name of the domain", lambda v: xmldoc.text(v, "NAME")),
        Column("user", "USER", 8, "Name of the owner", lambda v: xmldoc.text(v, "USERNAME")),
        Column(
            "stat", "STAT", 4, "Actual status of the VM",
            lambda v: fmt.vm_short_state(xmldoc.text(v, "STATE"), xmldoc.text(v, "LCM_STATE")),
        ),
        Column("cpu", "CPU", 3, "CPU percentage used by the VM", lambda v: xmldoc.text(v, "CPU")),
        Column("mem", "MEM", 7, "Memory used by the VM", lambda v: xmldoc.text(v, "MEMORY")),
        Column(
            "hostname", "HOSTNAME", 15, "Machine where the VM is running",
            lambda v: xmldoc.text(v, "HISTORY/HOSTNAME"),
        ),
        Column(
            "time", "TIME", 11, "Time since the VM was submitted",
            lambda v: fmt.running_time(xmldoc.text(v, "STIME"), xmldoc.text(v, "ETIME")),
        ),
    ],
    ["id", "user", "name", "stat", "cpu", "mem", "hostname", "time"],
)  # fmt: skip


def _history_etime(vm: Element) -> str:
    etime = xmldoc.text(vm, "HISTORY/ETIME")
    return "--" if fmt.to_i(etime) == 0 else fmt.local_time(etime)


HISTORY_TABLE = Table(
    [
        Column("id", "ID", 4, "ONE identifier for the VM", lambda v: xmldoc.text(v, "ID")),
        Column("seq", "SEQ", 3, "Sequence number", lambda v: xmldoc.text(v, "HISTORY/SEQ")),
        Column(
            "hostname", "HOSTNAME", 15, "Name of the host where the VM was submited",
            lambda v: xmldoc.text(v, "HISTORY/HOSTNAME"),
        ),
        Column("stime", "STIME", 14, "Start time",
               lambda v: fmt.local_time(xmldoc.text(v, "HISTORY/STIME"))),
        Column("etime", "ETIME", 14, "End time", _history_etime),
        Column(
            "time", "TIME", 11, "Total time",
            lambda v: fmt.running_time(xmldoc.text(v, "STIME"), xmldoc.text(v, "ETIME")),
        ),
        Column(
            "reason", "REASON", 6, "Reason for state change",
            lambda v: fmt.pick(fmt.REASON_SHORT, fmt.to_i(xmldoc.text(v, "HISTORY/REASON"))),
        ),
    ],
    ["id", "seq", "hostname", "stime", "etime", "time", "reason"],
)  # fmt: skip

# command -> (action sent to one.vm.action, -v message)
ACTIONS = {
    "shutdown": ("shutdown", "Shutting down VM"),
    "hold": ("hold", "Setting VM to hold state"),
    "release": ("release", "Releasing VM"),
    "stop": ("stop", "Stopping VM"),
    "cancel": ("cancel", "Cancelling VM"),
    "suspend": ("suspend", "Suspending VM"),
    "resume": ("resume", "Resuming VM"),
    "restart": ("restart", "Restarting VM"),
    "delete": ("finalize", "VM correctly deleted"),
}

SUMMARIES = {
    "shutdown": "Shutdown an already deployed VM.",
    "hold": "Set VMs to hold state: the scheduler will not deploy them.",
    "release": "Release VMs from hold state.",
    "stop": "Stop running VMs (saved, files moved back to the front-end).",
    "cancel": "Cancel running VMs.",
    "suspend": "Save running VMs (kept on their host).",
    "resume": "Resume the execution of saved VMs.",
    "restart": "Resubmit VMs after a boot failure.",
    "delete": "Delete VMs from the pool (finalize).",
}


# -- actions ----------------------------------------------------------------------------------


@tool_command(group, "create", "Submit a new VM from a template file (alias: submit).",
              "<template>")  # fmt: skip
def create(rt: Runtime, args: list[str]) -> None:
    rt.create_from_file(args, "vm.allocate")


def _action_command(command: str) -> None:
    action, message = ACTIONS[command]

    def run(rt: Runtime, args: list[str]) -> None:
        rt.check_parameters(args, command, 1)
        for arg in expand_args(args):
            vid = rt.resolve(VM, arg)
            rt.call_or_error("vm.action", action, int(vid))
            rt.say(message)

    tool_command(group, command, SUMMARIES[command], "<vm>...", (VM,))(run)


for _command in ACTIONS:
    _action_command(_command)


def _to_host(rt: Runtime, args: list[str], command: str) -> tuple[int, list[str]]:
    rt.check_parameters(args, command, 2)
    hid = int(rt.resolve(HOST, args[-1]))
    return hid, expand_args(args[:-1])


@tool_command(
    group, "deploy", "Start a pending VM on a specific host.", "<vm>... <host>", (VM, HOST)
)
def deploy(rt: Runtime, args: list[str]) -> None:
    hid, vms = _to_host(rt, args, "deploy")
    for arg in vms:
        vid = rt.resolve(VM, arg)
        rt.call_or_error("vm.deploy", int(vid), hid)
        rt.say("Deploying VM")


def _migrate(rt: Runtime, args: list[str], command: str, live: bool) -> None:
    hid, vms = _to_host(rt, args, command)
    for arg in vms:
        vid = rt.resolve(VM, arg)
        rt.call_or_error("vm.migrate", int(vid), hid, live)
        rt.say("Migrating VM")


@tool_command(group, "livemigrate", "Migrate running VMs to another host without downtime.",
              "<vm>... <host>", (VM, HOST))  # fmt: skip
def livemigrate(rt: Runtime, args: list[str]) -> None:
    _migrate(rt, args, "livemigrate", True)


@tool_command(group, "migrate", "Save running VMs and start them again on another host.",
              "<vm>... <host>", (VM, HOST))  # fmt: skip
def migrate(rt: Runtime, args: list[str]) -> None:
    _migrate(rt, args, "migrate", False)


# -- listings ---------------------------------------------------------------------------------


def pool_filter(args: Sequence[str]) -> tuple[int, str | None]:
    """The list filter argument: (flag sent to the pool call, user name to keep or None)."""
    if not args or args[0] in ("a", "all"):
        return -2, None
    if args[0] in ("m", "mine"):
        return -1, None
    if args[0].isdigit() and args[0].isascii():
        return int(args[0]), None
    return -2, args[0]


def _list_once(rt: Runtime, args: list[str]) -> None:
    flag, username = pool_filter(args)
    pool = rt.fetch("vmpool.info", flag, on_error=fail)  # 1.4: no "Error: " prefix here
    vms = [vm for vm in pool if username is None or xmldoc.text(vm, "USERNAME") == username]
    rt.print_listing(VM_TABLE, pool, vms)


@tool_command(group, "list", "Show the VMs in the pool (filter: a|all, m|mine, uid, user).",
              "[filter]")  # fmt: skip
def list_(rt: Runtime, args: list[str]) -> None:
    _list_once(rt, args)


@tool_command(group, "top", "List VMs continuously (every -d seconds).", "[filter]")
def top(rt: Runtime, args: list[str]) -> None:
    rt.top(lambda: _list_once(rt, args))


def _fetch_vm(rt: Runtime, vid: str) -> Element:
    return rt.fetch("vm.info", int(vid))


def _header(title: str, underline: bool) -> str:
    return BOLD + (UNDERLINE if underline else "") + f"{title:<80}" + RESET


def show_text(vm: Element) -> str:
    """The ``onevm show`` text of one VM (newline-terminated)."""
    line = "%-15s: %-20s"
    stime, etime = xmldoc.text(vm, "STIME"), xmldoc.text(vm, "ETIME")
    deploy_id = xmldoc.text(vm, "DEPLOY_ID")
    lines = [
        _header(f"VIRTUAL MACHINE {xmldoc.text(vm, 'ID')} INFORMATION", True),
        line % ("ID", xmldoc.text(vm, "ID")),
        line % ("NAME", xmldoc.text(vm, "NAME")),
        line % ("STATE", fmt.pick(fmt.VM_STATES, fmt.to_i(xmldoc.text(vm, "STATE")))),
        line % ("LCM_STATE", fmt.pick(fmt.LCM_STATES, fmt.to_i(xmldoc.text(vm, "LCM_STATE")))),
        line % ("START TIME", fmt.local_time(stime) if fmt.to_i(stime) else "-"),
        line % ("END TIME", fmt.local_time(etime) if fmt.to_i(etime) else "-"),
        line % ("DEPLOY ID:", deploy_id if deploy_id else "-"),
        "",
        _header("VIRTUAL MACHINE TEMPLATE", False),
        xmldoc.template_str(vm.find("TEMPLATE")),
    ]
    return "\n".join(lines) + "\n"


@tool_command(group, "show", "Show information about VMs.", "<vm>...", (VM,))
def show(rt: Runtime, args: list[str]) -> None:
    rt.check_parameters(args, "get_info", 1)
    vms = [_fetch_vm(rt, rt.resolve(VM, arg)) for arg in expand_args(args)]
    if rt.opts.json:
        data = [xmldoc.to_data(vm) for vm in vms]
        rt.print_json(data[0] if len(data) == 1 else data)
        return
    for vm in vms:
        if rt.opts.xml:
            out(xmldoc.pretty(vm))
        else:
            out(show_text(vm), end="")


def _history_block(rt: Runtime, vm: Element, apply_options: bool) -> None:
    out(f"History for VM {xmldoc.text(vm, 'ID')}")
    out()
    out(rt.render(HISTORY_TABLE, [vm], apply_options=apply_options))


@tool_command(group, "history", "Show the latest history record of VMs (all VMs if none given).",
              "[<vm>...]", (VM,))  # fmt: skip
def history(rt: Runtime, args: list[str]) -> None:
    if args:
        for arg in args:
            _history_block(rt, _fetch_vm(rt, rt.resolve(VM, arg)), False)
        return
    for vm in rt.fetch("vmpool.info", -2):
        _history_block(rt, vm, True)


TOOL = Tool("onevm", group, VM_TABLE, {"submit": "create"})


def main(argv: list[str] | None = None) -> int:
    """Console entry point of ``onevm``."""
    tool_main(TOOL, argv)


if __name__ == "__main__":
    main()
