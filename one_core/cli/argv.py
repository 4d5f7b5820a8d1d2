"""Command-line option parsing compatible with the 1.4 tools (Ruby ``OptionParser``).

The 1.4 tools parse their options with OptionParser's ``parse!``: options may appear anywhere on
the line (they are *permuted* out of the positional arguments), short options can be clustered
(``-vx``), values can be attached (``-lid,name``, ``--list=id,name``), unique prefixes of long
options are accepted (``--verb``), ``--`` ends option processing, and the handlers of ``-h``,
``--version`` and ``--list-columns`` run (print and exit) as soon as they are reached, before
later options are even looked at. Errors print OptionParser's message and exit 255.

:func:`parse_argv` reproduces that and returns an :class:`Options` plus the positional
arguments. The options that 1.4 did not have (``--json``) are parsed the same way but are not
listed in the 1.4 help text.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable
from dataclasses import dataclass, field


class OptionError(Exception):
    """A command line OptionParser would reject; ``str()`` is its exact message."""


class EarlyExit(Exception):  # noqa: N818 - mirrors Ruby's ``exit`` inside a handler
    """An option handler (``-h``, ``--version``, ``--list-columns``) asked to stop."""

    def __init__(self, action: str):
        super().__init__(action)
        self.action = action


@dataclass
class Options:
    """The parsed common options (spec §6.1)."""

    list: builtins.list[str] | None = None
    order: builtins.list[str] | None = None
    filter: builtins.list[tuple[str, str | None, str]] | None = None  # (key, value, original)
    delay: int | None = None
    verbose: bool = False
    xml: bool = False
    json: bool = False
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class _Spec:
    short: str | None
    long: str
    kind: str  # "flag", "array", "integer" or "action"
    dest: str


SPECS: tuple[_Spec, ...] = (
    _Spec("l", "list", "array", "list"),
    _Spec(None, "list-columns", "action", "list-columns"),
    _Spec("o", "order", "array", "order"),
    _Spec("f", "filter", "array", "filter"),
    _Spec("d", "delay", "integer", "delay"),
    _Spec("v", "verbose", "flag", "verbose"),
    _Spec("x", "xml", "flag", "xml"),
    _Spec(None, "json", "flag", "json"),
    _Spec("h", "help", "action", "help"),
    _Spec(None, "version", "action", "version"),
)

_INTEGER = re.compile(r"\A[-+]?(?:0x[0-9a-f]+|\d+(?:_\d+)*)\Z", re.I)


def ruby_split(text: str, sep: str) -> list[str]:
    """``String#split(sep)`` of Ruby: like :meth:`str.split` but trailing empties removed."""
    parts = text.split(sep)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _to_integer(text: str) -> int | None:
    """OptionParser's ``Integer`` acceptor, decimal and ``0x`` forms."""
    if not _INTEGER.match(text):
        return None
    try:
        return int(text.replace("_", ""), 16 if "x" in text.lower() else 10)
    except ValueError:
        return None


def _store(opts: Options, spec: _Spec, value: str, shown: str) -> None:
    if spec.kind == "array":
        items = [item for item in value.split(",") if item != ""]
        if spec.dest == "filter":
            parsed = []
            for item in items:
                parts = ruby_split(item, "=")
                key = parts[0] if parts else ""
                val = parts[1] if len(parts) > 1 else None
                parsed.append((key, val, item))
            opts.filter = parsed
        else:
            setattr(opts, spec.dest, items)
    elif spec.kind == "integer":
        number = _to_integer(value)
        if number is None:
            raise OptionError(f"invalid argument: {shown} {value}")
        opts.delay = number


def _find_long(name: str) -> _Spec:
    exact = [s for s in SPECS if s.long == name]
    if exact:
        return exact[0]
    candidates = [s for s in SPECS if s.long.startswith(name)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise OptionError(f"ambiguous option: --{name}")
    raise OptionError(f"invalid option: --{name}")


def parse_argv(
    argv: list[str], on_action: Callable[[str], None] | None = None
) -> tuple[Options, list[str]]:
    """Split ``argv`` into options and positional arguments, OptionParser style.

    ``on_action(name)`` is called for ``help``, ``version`` and ``list-columns`` when they are
    reached; it is expected to print and raise :class:`EarlyExit` (default: raise directly).
    Raises :class:`OptionError` with OptionParser's message for an invalid line.
    """

    def action(name: str) -> None:
        if on_action is not None:
            on_action(name)
        raise EarlyExit(name)

    opts = Options()
    positional: list[str] = []
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg == "--":
            positional.extend(args)
            break
        if arg.startswith("--"):
            name, eq, attached = arg[2:].partition("=")
            spec = _find_long(name)
            shown = f"--{spec.long}"
            if spec.kind == "action":
                if eq:
                    raise OptionError(f"needless argument: {shown}={attached}")
                action(spec.dest)
            elif spec.kind == "flag":
                if eq:
                    raise OptionError(f"needless argument: {shown}={attached}")
                setattr(opts, spec.dest, True)
            else:
                if not eq:
                    if not args:
                        raise OptionError(f"missing argument: {shown}")
                    attached = args.pop(0)
                _store(opts, spec, attached, shown)
        elif arg.startswith("-") and arg != "-":
            cluster = arg[1:]
            while cluster:
                letter, cluster = cluster[0], cluster[1:]
                matches = [s for s in SPECS if s.short == letter]
                if not matches:
                    raise OptionError(f"invalid option: -{letter}")
                spec = matches[0]
                if spec.kind == "action":
                    action(spec.dest)
                elif spec.kind == "flag":
                    setattr(opts, spec.dest, True)
                else:
                    value = cluster
                    if not value:
                        if not args:
                            raise OptionError(f"missing argument: -{letter}")
                        value = args.pop(0)
                    _store(opts, spec, value, f"-{letter}")
                    cluster = ""
        else:
            positional.append(arg)
    return opts, positional
