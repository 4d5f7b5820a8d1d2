"""Shared machinery of onevm, onehost, onevnet and oneuser (spec §6.1-§6.3).

Each tool is a :class:`click.Group` wrapped by :func:`run_tool`, which first parses the line the
way 1.4's OptionParser did (options anywhere, ``-h``/``--version``/``--list-columns`` handled on
the spot, 1.4 messages and exit codes), then hands the command and its positional arguments to
click. The command callbacks get a :class:`Runtime` (``ctx.obj``) with the parsed options and
the helpers every command needs: the RPC client, parameter checks, range expansion, name lookup.

Everything is printed on stdout (1.4 printed errors there too); ``Error: <msg>`` exits 255.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import click

from one_core.cli import texts
from one_core.cli.argv import EarlyExit, OptionError, Options, parse_argv
from one_core.cli.session import AuthFileError, CallError, Client, make_client
from one_core.cli.table import CLEAR, FilterError, Table

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

_RANGE = re.compile(r"(.*)\[(\d+)([+-])(\d+)\](.*)")


class CliExit(Exception):  # noqa: N818 - it is an exit, not an error
    """Stop the tool with this exit status (output has been printed already)."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def out(text: str = "", end: str = "\n") -> None:
    """Write to stdout (all 1.4 messages, errors included, went to stdout)."""
    sys.stdout.write(text + end)


def fail(message: str, code: int = 255) -> NoReturn:
    """Print ``message`` and exit with ``code``."""
    out(message)
    raise CliExit(code)


def error(message: str) -> NoReturn:
    """Print ``Error: <message>`` and exit 255, as 1.4 did for an ``Error`` result."""
    fail(f"Error: {message}")


# -- ranges and names -------------------------------------------------------------------------


def expand_range(arg: str) -> list[str]:
    """Expand the last ``[a-b]`` or ``[a+n]`` group of ``arg`` (spec §6.2)."""
    match = _RANGE.match(arg)
    if not match:
        return [arg]
    pre, first, op, second, post = match.groups()
    start = int(first)
    if op == "-":
        end = int(second)
        width = len(second)
    else:
        end = start + int(second) - 1
        width = len(str(end))
    if first.startswith("0"):
        return [f"{pre}{n:0{width}d}{post}" for n in range(start, end + 1)]
    return [f"{pre}{n}{post}" for n in range(start, end + 1)]


def expand_args(args: Sequence[str]) -> list[str]:
    """Range-expand every argument, keeping their order."""
    return [item for arg in args for item in expand_range(arg)]


@dataclass(frozen=True)
class EntityKind:
    """How to look an object up by name (spec §6.3)."""

    class_name: str  # printed in the messages
    pool_method: str
    pool_args: tuple[object, ...]


VM = EntityKind("VirtualMachine", "vmpool.info", (0,))
HOST = EntityKind("Host", "hostpool.info", ())
VNET = EntityKind("VirtualNetwork", "vnpool.info", (0,))
USER = EntityKind("User", "userpool.info", ())


# -- runtime ----------------------------------------------------------------------------------


@dataclass
class Runtime:
    """Per-invocation state handed to the click commands as ``ctx.obj``."""

    tool: Tool
    opts: Options
    client_factory: Callable[[], Client] = make_client
    _client: Client | None = field(default=None, repr=False)

    def client(self) -> Client:
        """The RPC client; a missing/malformed credentials file ends the tool like 1.4."""
        if self._client is None:
            try:
                self._client = self.client_factory()
            except AuthFileError as exc:
                fail(str(exc))
        return self._client

    def call(self, method: str, *args: object) -> object:
        """Call ``one.<method>``; raise :class:`CallError` on failure."""
        return self.client().call(method, *args)

    def call_or_error(self, method: str, *args: object) -> object:
        """Call ``one.<method>``; on failure print ``Error: <msg>`` and exit 255."""
        try:
            return self.call(method, *args)
        except CallError as exc:
            error(exc.message)

    @staticmethod
    def check_parameters(args: Sequence[str], name: str, number: int) -> None:
        """1.4's ``check_parameters``: too few arguments print a message and exit 255."""
        if len(args) < number:
            if number > 1:
                fail(f"Command {name} requires {number} parameters to run.")
            fail(f"Command {name} requires one parameter to run")

    def resolve(self, kind: EntityKind, name: str) -> str:
        """``get_entity_id``: digits are used as given, anything else is looked up by NAME."""
        if re.match(r"^[0-9]+$", name, re.M):
            return name
        from one_core.cli import xmldoc

        try:
            pool = xmldoc.parse(str(self.call(kind.pool_method, *kind.pool_args)))
            matches = [xmldoc.text(obj, "ID") for obj in pool if xmldoc.text(obj, "NAME") == name]
        except (CallError, xmldoc.XmlError):
            matches = []
        if not matches:
            fail(f"{kind.class_name} named {name} not found.")
        if len(matches) > 1:
            fail(f"There are multiple {kind.class_name}'s with name {name}.")
        return matches[0]

    def say(self, message: str) -> None:
        """Print ``message`` only with ``-v`` (1.4's confirmations of successful actions)."""
        if self.opts.verbose:
            out(message)

    def fetch(
        self, method: str, *args: object, on_error: Callable[[str], NoReturn] = error
    ) -> Element:
        """Call ``one.<method>`` and parse the XML it returns.

        A failed call or a malformed body ends the tool with ``on_error(message)``:
        :func:`error` (``Error: <msg>``, the default) or :func:`fail` (the bare message).
        """
        from one_core.cli import xmldoc

        try:
            return xmldoc.parse(str(self.call(method, *args)))
        except (CallError, xmldoc.XmlError) as exc:
            on_error(getattr(exc, "message", str(exc)))

    def render(self, table: Table, rows: Sequence[Element], *, apply_options: bool = True) -> str:
        """``table`` rendered for ``rows`` with the ``-l``, ``-f`` and ``-o`` options.

        Without ``apply_options``: the table's default columns, no filter, no order.
        A bad filter prints its message and exits 255.
        """
        keys = self.columns(table) if apply_options else table.default
        filters = self.opts.filter if apply_options else None
        order = self.opts.order if apply_options else None
        try:
            return table.render(list(rows), keys, filters, order)
        except FilterError as exc:
            fail(str(exc))

    def print_listing(
        self, table: Table, pool: Element, rows: Sequence[Element] | None = None
    ) -> None:
        """A ``list`` command's output: ``--json`` of ``rows`` (default: the whole pool),
        ``--xml`` of the pool document (1.4 ignored the user name filter there), else the table.
        """
        from one_core.cli import xmldoc

        rows = list(pool) if rows is None else rows
        if self.opts.json:
            self.print_json([xmldoc.to_data(row) for row in rows])
        elif self.opts.xml:
            out(xmldoc.pretty(pool))
        else:
            out(self.render(table, rows), end="")

    def create_from_file(self, args: Sequence[str], method: str) -> None:
        """``create <template file>``: allocate from the file's text, ``ID: <id>`` with ``-v``."""
        self.check_parameters(args, "create", 1)
        self.client()
        try:
            with open(args[0], encoding="utf-8", errors="surrogateescape") as handle:
                template = handle.read()
        except OSError:
            error(f"Can not read template: {args[0]}")
        oid = self.call_or_error(method, template)
        self.say(f"ID: {oid}")

    def print_json(self, data: object) -> None:
        """Print ``--json`` output."""
        out(json.dumps(data, indent=2, ensure_ascii=False))

    def columns(self, table: Table) -> list[str]:
        """Columns chosen with ``-l`` (or the table default)."""
        return list(self.opts.list) if self.opts.list else table.default

    def top(self, show_once: Callable[[], None]) -> None:
        """The 1.4 ``top`` loop: clear, move, list, sleep; any exception ends it (exit 0).

        Ctrl-C is also remembered in a flag: a KeyboardInterrupt raised while the HTTP
        client frees a response is swallowed by Python, and must still end the loop.
        """
        delay = 1 if self.opts.delay is None else self.opts.delay
        interrupted = False

        def on_sigint(signum: int, frame: Any) -> None:
            nonlocal interrupted
            interrupted = True
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            while not interrupted:
                out(CLEAR + "\x1b[0;0H", end="")
                show_once()
                sys.stdout.flush()
                if interrupted or delay < 0:
                    break  # Ruby's sleep raises on a negative delay, which ends the loop
                time.sleep(delay)
        except (KeyboardInterrupt, CliExit):
            pass
        finally:
            signal.signal(signal.SIGINT, previous)


# -- tool -------------------------------------------------------------------------------------


@dataclass
class Tool:
    """A 1.4 tool: name, click group, main table, command aliases."""

    name: str
    group: click.Group
    table: Table
    aliases: dict[str, str] = field(default_factory=dict)

    def help_text(self) -> str:
        """The 1.4 help output (banner, option summary, blank line, command block)."""
        return (
            texts.BANNER.format(tool=self.name)
            + texts.OPTIONS_SUMMARY
            + "\n"
            + texts.COMMANDS_HELP[self.name]
        )


def common_options(func: Callable) -> Callable:
    """Declare the 1.4 options on a click command (documentation and shell completion).

    The values are parsed by :func:`run_tool` before click runs, and reach the command
    through ``ctx.obj.opts``; click never sees them on the command line.
    """
    decorators = [
        click.option("-l", "--list", "list_", metavar="x,y,z", help="Columns to display."),
        click.option("-o", "--order", metavar="x,y,z",
                     help="Order by these columns (plain key: descending, -key: ascending)."),
        click.option("-f", "--filter", "filter_", metavar="x,y,z",
                     help="Filters col=regex (case-insensitive)."),
        click.option("-d", "--delay", type=int, metavar="seconds", help="Delay for top."),
        click.option("-v", "--verbose", is_flag=True, help="Confirm successful actions."),
        click.option("-x", "--xml", is_flag=True, help="Print XML instead of tables."),
        click.option("--json", "json_", is_flag=True, help="Print JSON (list/show)."),
    ]  # fmt: skip
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _print_command_help(tool: Tool, command: str) -> int:
    cmd = tool.group.commands[command]
    with click.Context(tool.group, info_name=tool.name, help_option_names=[]) as parent:
        ctx = click.Context(cmd, info_name=command, parent=parent)
        out(cmd.get_help(ctx))
    return 0


def _command_asking_help(tool: Tool, argv: Sequence[str]) -> str | None:
    """The subcommand of ``argv`` when ``-h``/``--help`` follows it, else ``None``."""
    for index, token in enumerate(argv):
        if token.startswith("-"):
            continue
        name = tool.aliases.get(token, token)
        rest = argv[index + 1 :]
        if name in tool.group.commands and ("-h" in rest or "--help" in rest):
            return name
        return None
    return None


def run_tool(
    tool: Tool,
    argv: Sequence[str] | None = None,
    client_factory: Callable[[], Client] | None = None,
) -> int:
    """Run ``tool`` on ``argv`` and return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get(f"_{tool.name.upper()}_COMPLETE"):
        return int(tool.group.main(args=argv, prog_name=tool.name, standalone_mode=True) or 0)

    def on_action(action: str) -> None:
        if action == "help":
            out(tool.help_text(), end="")
        elif action == "version":
            out(texts.VERSION, end="")
        else:
            out(tool.table.list_columns())

    # Beyond 1.4: `onevm show --help` describes that command (1.4 printed the
    # whole tool help for -h/--help anywhere; `onevm --help` still does).
    command_help = _command_asking_help(tool, argv)
    if command_help:
        return _print_command_help(tool, command_help)

    try:
        try:
            opts, args = parse_argv(argv, on_action)
        except EarlyExit:
            return 0
        except OptionError as exc:
            out(str(exc))
            return 255
        command = tool.aliases.get(args[0], args[0]) if args else None
        if command == "help" and len(args) > 1:
            name = tool.aliases.get(args[1], args[1])
            if name in tool.group.commands:
                return _print_command_help(tool, name)
        if command is None or command not in tool.group.commands:
            out(tool.help_text(), end="")
            return 255
        runtime = Runtime(tool, opts)
        if client_factory is not None:
            runtime.client_factory = client_factory
        try:
            tool.group.main(
                args=[command, "--", *args[1:]],
                prog_name=tool.name,
                standalone_mode=False,
                obj=runtime,
            )
        except CliExit as exc:
            return exc.code
        except KeyboardInterrupt:
            out("")
            return 130
        except BrokenPipeError:  # e.g. `onevm list | head -1`: stop quietly
            _silence_stdout()
            return 141
        return 0
    finally:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def tool_main(tool: Tool, argv: Sequence[str] | None = None) -> NoReturn:
    """A tool's console entry point: run it and exit with its status."""
    try:
        code = run_tool(tool, argv)
    except CliExit as exc:
        code = exc.code
    sys.exit(code)


def make_group(name: str, doc: str) -> click.Group:
    """The click group of a tool (commands are added by the tool modules)."""

    @click.group(name=name, help=doc, context_settings={"help_option_names": []})
    def group() -> None:
        pass

    return group


def runtime() -> Runtime:
    """The :class:`Runtime` of the running command."""
    rt = click.get_current_context().find_object(Runtime)
    if rt is None:
        raise RuntimeError("no Runtime in the click context (not run through a tool's group)")
    return rt


def _completer(kinds: Sequence[EntityKind]) -> Callable[..., list[str]]:
    """Shell completion of object ids and names from oned (silent when it is unreachable)."""

    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        from one_core.cli import xmldoc

        found: list[str] = []
        try:
            client = make_client()
            client.shared.timeout = 3.0
            for kind in kinds:
                pool = xmldoc.parse(str(client.call(kind.pool_method, *kind.pool_args)))
                for obj in pool:
                    found += [xmldoc.text(obj, "ID"), xmldoc.text(obj, "NAME")]
        except Exception:  # completion must never fail loudly
            return []
        return [item for item in dict.fromkeys(found) if item and item.startswith(incomplete)]

    return complete


def tool_command(
    group: click.Group,
    name: str,
    summary: str,
    metavar: str = "",
    complete: Sequence[EntityKind] = (),
) -> Callable[[Callable[[Runtime, list[str]], None]], click.Command]:
    """Register ``func(runtime, args)`` as command ``name`` of ``group``.

    Positional arguments are collected unchanged (1.4 checks their number itself, with its own
    messages); the common options are declared for help and completion. ``complete`` names the
    kinds of objects whose ids and names the shell completes for the arguments.
    """

    def decorate(func: Callable[[Runtime, list[str]], None]) -> click.Command:
        @click.pass_obj
        def callback(obj: Runtime, args: tuple[str, ...], **_options: object) -> None:
            func(obj, list(args))

        callback.__doc__ = summary
        callback = common_options(callback)
        callback = click.argument(
            "args",
            nargs=-1,
            metavar=metavar,
            shell_complete=_completer(complete) if complete else None,
        )(callback)
        return group.command(name=name, help=summary, short_help=summary)(callback)

    return decorate
