"""VM hooks: configuration, argument expansion, and when hooks fire.

``spec/lifecycle-and-drivers.md`` §7 (Hook Manager), §1.9 (hooks fired by
transitions); decisions in ``docs/decisions/hooks-context.md``.

API for the VM engine
=====================

Build one :class:`HookManager` at start-up::

    from one_core.vm_hooks import HookManager
    hooks = HookManager.from_entries(cfg.vm_hooks)      # oned.conf VM_HOOK sections
    # optional: executor=<the engine's driver pool>, vm_log=<VMLogWriter>, log=<oned logger>

Fire hooks from the dispatcher thread; nothing here blocks on the hook
command (it runs on the executor through the ``hm`` driver, and the result
is written to the VM's log as 1.4 did: ``[HKM][I]: Hook <name> successfully
executed.`` or ``[HKM][E]: Error executing Hook: <name>. <output>``)::

    # after a successful allocation (template holds VMID, NAME, leased NICs
    # and, in our order, the resolved CONTEXT):
    hooks.fire("create", vm, drivers)

    # after EVERY committed change of (state, lcm_state), with the pair before it:
    hooks.state_changed(vm, drivers, state=new_state, lcm_state=new_lcm,
                        prev_state=old_state, prev_lcm_state=old_lcm)

``vm`` is anything with ``vid`` (int), ``template`` (a
:class:`~one_core.template.Template`) and ``host`` (the current history
record's host name; ``""``/``None`` without history) — e.g. a
:class:`~one_core.records.VMRecord`. ``drivers`` is the
:class:`~one_core.drivers.DriverSet` (the first ``hm`` driver is used; without
one, hooks are silently skipped as in 1.4) or a single ``LoadedDriver``.
``fire``/``state_changed`` return the list of :class:`concurrent.futures.Future`
of the submitted hook runs (tests wait on them; the engine may ignore them).
The runs go to the ``executor`` given to :class:`HookManager`: in oned the
engine's driver executor (``engine.work.executor_for("hook")``, one run at a
time per VM, docs/architecture.md §4); without one they run in the caller's
thread.
Pass ``lookup=`` (``vid -> Template | None``) to resolve ``$<vid>.VAR``.

Lower-level pieces, also used by :mod:`one_core.vm_context`:

* :func:`expand` — ``text -> str`` (1.4's ``parse_template_attribute``);
* :func:`expand_arguments` — ``text -> list[str]``: one argument per
  whitespace-separated word of the *unexpanded* text; an expanded value is
  never split, whatever it contains (spaces, ``;``, ``$(...)``, quotes);
* :class:`VarSyntaxError` — ``str()`` is 1.4's bison message, e.g.
  ``syntax error, unexpected VARIABLE, expecting EOA at line 1, columns 8:9``;
* :meth:`HookManager.expand` — ``(hook, template) -> HookCall(command, arguments, host)``.

Decisions (details in the decisions file): the 1.4 "no hook on the first
update after creation/restart" quirk is **not** kept — a state hook fires on
every committed transition into its pair; CREATE fires only after a
successful insert; hooks never go through a shell.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, Protocol

from one_core.drivers import DriverSet, LoadedDriver
from one_core.errors import DriverError, OneError

log = logging.getLogger("one.hooks")

# ===========================================================================
# The variable language (src/vm/vm_var_parser.l, src/vm/vm_var_syntax.y)
# ===========================================================================


class TemplateLike(Protocol):
    """What expansion needs from a template (:class:`one_core.template.Template` fits)."""

    def values(self, name: str) -> list[Any]: ...


Lookup = Callable[[int], "TemplateLike | None"]
"""``vid -> template`` of another VM (for ``$<vid>.VAR``); ``None`` when there is no such VM."""


class VarSyntaxError(OneError):
    """A syntax error in a ``$VAR`` expression; ``str()`` is 1.4's bison message."""


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    value: str
    line: int
    first: int
    last: int


# VAR-state rules, in flex order; flex takes the longest match, the first rule on a tie.
_VAR_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("EQUAL", re.compile(r"[ \t]*=[ \t]*")),
    ("COMMA", re.compile(r"[ \t]*,[ \t]*")),
    ("OBRACKET", re.compile(r"\[[ \t]*")),
    ("CBRACKET", re.compile(r"[ \t]*\]")),
    ("STRING", re.compile(r'"[^"]*"')),
    ("INTEGER", re.compile(r"[0-9]+\.")),
    ("VARIABLE", re.compile(r"[A-Za-z0-9_]+")),
    ("DOLLAR", re.compile(r"\$")),
    ("ANY", re.compile(r".", re.S)),
)

# bison token numbers decide the order of "expecting A or B"
_TOKEN_ORDER = (
    "$end",
    "EQUAL",
    "COMMA",
    "OBRACKET",
    "CBRACKET",
    "EOA",
    "STRING",
    "VARIABLE",
    "RSTRING",
    "INTEGER",
)


def _tokens(text: str) -> Iterable[_Token]:
    """1.4's lexer: text outside variables verbatim, ``$`` switches to the VAR state."""
    pos, first, last, var = 0, 0, 0, False
    n = len(text)

    def located(kind: str, value: str, length: int) -> _Token:
        nonlocal first, last, pos
        first, last = last, last + length
        pos += length
        return _Token(kind, value, 1 + text.count("\n", 0, pos), first, last)

    while True:
        if not var:
            if pos >= n:
                yield _Token("$end", "", 1 + text.count("\n"), first, last)
                return
            if text[pos] == "$":
                located("DOLLAR", "$", 1)
                var = True
                continue
            end = text.find("$", pos)
            end = n if end < 0 else end
            yield located("RSTRING", text[pos:end], end - pos)
            continue
        if pos >= n:  # <VAR><<EOF>>: no YY_USER_ACTION, the location stays
            var = False
            yield _Token("EOA", "", 1 + text.count("\n"), first, last)
            continue
        kind, match = max(
            ((k, m) for k, rx in _VAR_RULES if (m := rx.match(text, pos))),
            key=lambda km: len(km[1].group()),
        )  # max() keeps the first of equal lengths: flex's tie rule
        lexeme = match.group()
        if kind == "DOLLAR":  # `$` inside a variable ends it; we stay in VAR
            yield located("EOA", "", 1)
        elif kind == "ANY":  # any other character ends the variable and is kept
            var = False
            yield located("EOA", lexeme, 1)
        elif kind == "STRING":
            yield located("STRING", lexeme[1:-1], len(lexeme))
        elif kind == "INTEGER":
            yield located("INTEGER", lexeme[:-1], len(lexeme))
        else:
            yield located(kind, lexeme, len(lexeme))


def _syntax_error(token: _Token, expected: Sequence[str]) -> VarSyntaxError:
    names = " or ".join(sorted(expected, key=_TOKEN_ORDER.index))
    return VarSyntaxError(
        f"syntax error, unexpected {token.kind}, expecting {names} "
        f"at line {token.line}, columns {token.first}:{token.last}"
    )


def _values(template: TemplateLike | None, name: str) -> list[Any]:
    return [] if template is None else list(template.values(name))


def _single(template: TemplateLike | None, name: str) -> str:
    """``$NAME``: the first attribute of that name when it is single, else ``""``."""
    found = _values(template, name)
    return found[0] if found and isinstance(found[0], str) else ""


def _vector(
    template: TemplateLike | None, name: str, sub: str, key: str = "", value: str = ""
) -> str:
    """``$VEC[SUB]`` / ``$VEC[SUB, KEY="value"]`` (1.4's ``insert_vector``)."""
    found = _values(template, name)
    if not found:
        return ""
    if not key:
        chosen = found[0] if isinstance(found[0], Mapping) else None
    else:
        chosen = next(
            (v for v in found if isinstance(v, Mapping) and v.get(key, "") == value), None
        )
    return "" if chosen is None else str(chosen.get(sub, ""))


Segment = tuple[bool, str]
"""``(is_value, text)``: a piece of expanded output; ``is_value`` marks a variable's value."""


def expand_segments(
    text: str, template: TemplateLike | None, lookup: Lookup | None = None
) -> list[Segment]:
    """Parse ``text`` and return its pieces: literal text and variable values, in order.

    Raises :class:`VarSyntaxError` exactly where 1.4's parser failed.
    """
    out: list[Segment] = []
    stream = iter(_tokens(text))

    def need(*kinds: str) -> _Token:
        token = next(stream)
        if token.kind not in kinds:
            raise _syntax_error(token, kinds)
        return token

    def eoa(value: str) -> None:
        end = need("EOA")
        out.append((True, value))
        if end.value:
            out.append((False, end.value))

    while True:
        token = next(stream)
        if token.kind == "RSTRING":
            out.append((False, token.value))
        elif token.kind == "VARIABLE":
            name = token.value.upper()
            after = need("OBRACKET", "EOA")
            if after.kind == "EOA":
                out.append((True, _single(template, name)))
                if after.value:
                    out.append((False, after.value))
                continue
            sub = need("VARIABLE").value.upper()
            if need("COMMA", "CBRACKET").kind == "CBRACKET":
                eoa(_vector(template, name, sub))
                continue
            key = need("VARIABLE").value.upper()
            need("EQUAL")
            value = need("STRING").value
            need("CBRACKET")
            eoa(_vector(template, name, sub, key, value))
        elif token.kind == "INTEGER":
            sub = need("VARIABLE").value.upper()
            other = lookup(int(token.value)) if lookup is not None else None
            eoa(_vector(other, "CONTEXT", sub))
        elif token.kind == "$end" and out:
            return out
        else:
            expected = ("VARIABLE", "RSTRING", "INTEGER") + (("$end",) if out else ())
            raise _syntax_error(token, expected)


def expand(text: str, template: TemplateLike | None, lookup: Lookup | None = None) -> str:
    """Expand every ``$VAR`` of ``text`` with the VM's template (§7.3).

    ``lookup(vid)`` gives another VM's template for ``$<vid>.VAR`` (its
    ``CONTEXT`` vector is read). Raises :class:`VarSyntaxError`.
    """
    return "".join(piece for _, piece in expand_segments(text, template, lookup))


def expand_arguments(
    text: str, template: TemplateLike | None, lookup: Lookup | None = None
) -> list[str]:
    """Expand ``text`` into an argument list.

    Words are separated by whitespace in the *literal* text only; a variable's
    value is never split and never interpreted, so ``$NAME`` is exactly one
    argument even if the name is ``a b; rm -rf x``. A word made only of
    variables that expand to nothing is kept as an empty argument (positions
    stay stable). An empty or blank ``text`` gives ``[]``.
    """
    if not text.strip():
        return []
    args: list[str] = []
    word: list[str] | None = None
    for is_value, piece in expand_segments(text, template, lookup):
        if is_value:
            word = (word or []) + [piece]
            continue
        parts = re.split(r"\s+", piece)
        for i, part in enumerate(parts):
            if i > 0 and word is not None:  # whitespace ends the current word
                args.append("".join(word))
                word = None
            if part:
                word = (word or []) + [part]
    if word is not None:
        args.append("".join(word))
    return args


# ===========================================================================
# Configuration (VM_HOOK sections of oned.conf, src/vm/VirtualMachinePool.cc)
# ===========================================================================

EVENTS: tuple[str, ...] = ("CREATE", "RUNNING", "SHUTDOWN", "STOP", "DONE")
"""Valid ``ON`` values, upper-case."""

# (state, lcm_state) of each state hook, 1.4's numbers: ACTIVE=3, STOPPED=4, DONE=6;
# LCM_INIT=0, RUNNING=3, EPILOG=11 (one_core.vm.states)
STATE_PAIRS: dict[str, tuple[int, int]] = {
    "RUNNING": (3, 3),
    "SHUTDOWN": (3, 11),
    "STOP": (4, 0),
    "DONE": (6, 0),
}
"""The ``(state, lcm_state)`` pair each state hook fires on entering."""


def event_for(state: int, lcm_state: int) -> str | None:
    """The state-hook event of a ``(state, lcm_state)`` pair, ``None`` if no hook fires on it."""
    for event, pair in STATE_PAIRS.items():
        if pair == (int(state), int(lcm_state)):
            return event
    return None


@dataclass(frozen=True, slots=True)
class VMHook:
    """One registered ``VM_HOOK``."""

    name: str
    on: str
    command: str
    arguments: str = ""
    remote: bool = False


def parse_vm_hooks(
    entries: Iterable[Mapping[str, str]], oned_log: logging.Logger | None = None
) -> list[VMHook]:
    """The valid hooks of oned.conf's ``VM_HOOK`` sections, in order (§7.1).

    Invalid entries are logged to oned.log with 1.4's warnings and skipped.
    """
    logger = oned_log or log
    hooks = []
    for entry in entries:
        values = {str(k).upper(): str(v) for k, v in entry.items()}
        on = values.get("ON", "").strip().upper()
        command = values.get("COMMAND", "").strip()
        if not on or not command:
            logger.warning("Empty ON or COMMAND attribute in VM_HOOK. Hook not registered!")
            continue
        if on not in EVENTS:
            logger.warning("Unkown VM_HOOK %s. Hook not registered!", on)
            continue
        remote = values.get("REMOTE", "").strip().lower() == "yes" and on != "CREATE"
        hooks.append(
            VMHook(
                name=values.get("NAME", "").strip() or command,
                on=on,
                command=command,
                arguments=values.get("ARGUMENTS", ""),
                remote=remote,
            )
        )
    return hooks


# ===========================================================================
# Firing hooks
# ===========================================================================


@dataclass(frozen=True, slots=True)
class HookCall:
    """A hook ready to run: what ``hm_execute`` gets."""

    hook: VMHook
    command: str
    arguments: list[str]
    host: str | None


VMLog = Callable[[int, str, str, str], None]
"""``(vid, module, level letter, message)`` → vm.log (a :class:`one_core.logs.VMLogWriter`)."""


HookDrivers = DriverSet | LoadedDriver | None
"""Where the ``hm`` driver comes from: a driver set, the driver itself, or none."""


def _hm_driver(drivers: HookDrivers) -> LoadedDriver | None:
    """The hook driver: a LoadedDriver given directly, or the first ``hm`` of a DriverSet."""
    if isinstance(drivers, DriverSet):
        found = drivers.by_role("hm")
        return found[0] if found else None
    return drivers


class HookManager:
    """Decides which hooks fire, expands them, and runs them through the ``hm`` driver."""

    def __init__(
        self,
        hooks: Sequence[VMHook],
        *,
        executor: Executor | None = None,
        vm_log: VMLog | None = None,
        oned_log: logging.Logger | None = None,
        lookup: Lookup | None = None,
    ):
        self.hooks = list(hooks)
        self._executor: Executor = executor or _InCaller()
        self._vm_log = vm_log
        self.log = oned_log or log
        self.lookup = lookup

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, str]], **kwargs: Any) -> HookManager:
        """From oned.conf's ``VM_HOOK`` sections (``cfg.vm_hooks``)."""
        return cls(parse_vm_hooks(entries, kwargs.get("oned_log")), **kwargs)

    def hooks_for(self, event: str) -> list[VMHook]:
        """The hooks registered for ``event`` (any case), in registration order."""
        event = event.upper()
        return [h for h in self.hooks if h.on == event]

    def expand(
        self,
        hook: VMHook,
        template: TemplateLike,
        host: str | None = None,
        lookup: Lookup | None = None,
    ) -> HookCall:
        """Expand ``hook``'s ARGUMENTS with ``template``; ``host`` is used by remote hooks only.

        Raises :class:`VarSyntaxError`.
        """
        args = expand_arguments(hook.arguments, template, lookup or self.lookup)
        return HookCall(hook, hook.command, args, (host or None) if hook.remote else None)

    # -- when hooks fire -------------------------------------------------------

    def state_changed(
        self,
        vm: Any,
        drivers: HookDrivers,
        *,
        state: int,
        lcm_state: int,
        prev_state: int | None = None,
        prev_lcm_state: int | None = None,
    ) -> list[Future[Any]]:
        """Fire the state hook of the new pair when the VM has just entered it.

        Call after every committed update of a VM's ``(state, lcm_state)``.
        Nothing fires when the pair did not change (a re-save of the same
        state, or recovery leaving a VM where it was).
        """
        if (
            prev_state is not None
            and prev_lcm_state is not None
            and (int(prev_state), int(prev_lcm_state)) == (int(state), int(lcm_state))
        ):
            return []
        event = event_for(state, lcm_state)
        return self.fire(event, vm, drivers) if event else []

    def fire(self, event: str, vm: Any, drivers: HookDrivers) -> list[Future[Any]]:
        """Expand and submit every hook of ``event`` for ``vm``; return their futures."""
        hooks = self.hooks_for(event)
        hm = _hm_driver(drivers) if hooks else None
        if hm is None:
            return []
        vid = int(vm.vid)
        futures = []
        for hook in hooks:
            try:
                call = self.expand(hook, vm.template, getattr(vm, "host", None))
            except VarSyntaxError as exc:
                self._write_vm_log(hm, vid, "VM", "E", f"Error parsing: {hook.arguments}. {exc}")
                continue
            if hook.remote and call.host is None:
                self.log.debug("remote hook %s of VM %s not run: no host yet", hook.name, vid)
                continue
            futures.append(self._executor.submit(self._run, hm, vid, call))
        return futures

    def _run(self, hm: LoadedDriver, vid: int, call: HookCall) -> str | None:
        name = call.hook.name
        try:
            output = hm.call(
                "hm_execute",
                vid=vid,
                hook_name=name,
                host=call.host,
                command=call.command,
                arguments=list(call.arguments),
            )
        except DriverError as exc:
            self._write_vm_log(hm, vid, "HKM", "E", f"Error executing Hook: {name}. {exc}")
            return None
        except Exception as exc:  # a broken driver never takes the engine down
            self.log.exception("hook %s of VM %s: driver error", name, vid)
            self._write_vm_log(hm, vid, "HKM", "E", f"Error executing Hook: {name}. {exc}")
            return None
        text = " ".join(str(output or "").split())
        self._write_vm_log(
            hm, vid, "HKM", "I", f"Hook {name} successfully executed. {text}".rstrip()
        )
        return str(output or "")

    def _write_vm_log(
        self, hm: LoadedDriver, vid: int, module: str, level: str, message: str
    ) -> None:
        writer = self._vm_log or hm.ctx.vm_log_func
        writer(vid, module, level, message)

    def shutdown(self, wait: bool = True) -> None:
        """Nothing to stop: the executor belongs to whoever passed it (oned: the engine)."""


class _InCaller(Executor):
    """Runs each submitted call at once in the caller's thread (no ``executor`` given)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to whoever waits on the future
            future.set_exception(exc)
        return future
