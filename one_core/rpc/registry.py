"""The XML-RPC method registry: ``@method(name, signature)`` and parameter checks.

A method is a plain function ``func(rq, *params) -> list``:

* ``rq`` is the :class:`Request` (``rq.core`` — the daemon's :class:`~one_core.daemon.core.Core`,
  ``rq.session``, ``rq.authenticate()`` → uid or −1, ``rq.fail(msg)``);
* ``params`` are the call's parameters after the session, already checked
  against the signature (count and XML-RPC type, in order, faulting −501
  exactly like xmlrpc-c); surplus parameters are dropped (1.4 ignored them);
* it returns the response array: ``[True, value]``, ``[True]`` or
  ``[False, "message"]`` (helpers :func:`ok` / :meth:`Request.fail`).

Signature letters are xmlrpc-c's: ``A`` array, ``S`` struct, ``s`` string,
``i`` int (``<i4>``/``<int>``), ``b`` boolean, ``d`` double, ``I`` i8,
``6`` base64, ``8`` dateTime, ``n`` nil. ``"A:sii"`` = returns an array, takes
session string + two ints (the session is always the first parameter).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from one_core.errors import DatabaseFailure
from one_core.rpc.codec import I8, DateTime

if TYPE_CHECKING:
    from one_core.daemon.core import Core

log = logging.getLogger("one.rpc")
_rem_log = logging.getLogger("one.ReM")

FAULT_INTERNAL = -500
FAULT_TYPE = -501
FAULT_PARSE = -503
FAULT_NO_METHOD = -506

MSG_NOT_ENOUGH = "Not enough parameters"
MSG_UNEXPECTED = (
    "Unexpected error executing code for particular method, detected by Xmlrpc-c method "
    "registry code.  Method did not fail; rather, it did not complete at all.  "
)

_TYPES: dict[str, tuple[str, str, type]] = {
    # letter: (XML-RPC type name, xmlrpc-c's words in a type fault, the decoded Python type)
    "s": ("string", "a string", str),
    "i": ("int", "integer", int),
    "b": ("boolean", "boolean", bool),
    "d": ("double", "floating point number", float),
    "I": ("i8", "64-bit integer", I8),
    "A": ("array", "an array", list),
    "S": ("struct", "a structure", dict),
    "6": ("base64", "a byte string", bytes),
    "8": ("dateTime.iso8601", "a datetime", DateTime),
    "n": ("nil", "nil", type(None)),
}


def _is(kind: str, v: Any) -> bool:
    """``v`` decodes an XML-RPC value of type ``kind`` (exactly: a bool is not an int)."""
    return kind not in _TYPES or type(v) is _TYPES[kind][2]


class Fault(Exception):
    """An XML-RPC fault (only the protocol layer raises these; methods return ``[False, msg]``)."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class MethodSpec:
    """One registered method."""

    name: str
    signature: str
    help: str
    func: Callable[..., list[Any]]
    session: bool = True
    params: str = field(init=False)

    def __post_init__(self) -> None:
        ret, _, params = self.signature.partition(":")
        if self.session and not params.startswith("s"):
            raise ValueError(f"{self.name}: the first parameter (the session) must be 's'")
        self.params = params

    def check(self, params: list[Any]) -> list[Any]:
        """Check ``params`` (session included) against the signature; return them trimmed.

        :raises Fault: −501 as xmlrpc-c's ``paramList::get*`` would.
        """
        for i, kind in enumerate(self.params):
            if i >= len(params):
                raise Fault(FAULT_TYPE, MSG_NOT_ENOUGH)
            if not _is(kind, params[i]):
                raise Fault(
                    FAULT_TYPE, f"Parameter that is supposed to be {_TYPES[kind][1]} is not"
                )
        return params[: len(self.params)]

    def xmlrpc_signature(self) -> list[str]:
        """``["array", "string", "int"]`` for ``"A:si"``."""
        ret, _, params = self.signature.partition(":")
        return [_TYPES[c][0] for c in ret + params]


class Request:
    """What a method gets as its first argument."""

    __slots__ = ("core", "registry", "session", "_uid")

    def __init__(self, core: Core, registry: Registry, session: str):
        self.core = core
        self.registry = registry
        self.session = session
        self._uid: int | None = None

    def authenticate(self) -> int:
        """``UserPool::authenticate(session)``: the caller's uid, or −1 (memoised)."""
        if self._uid is None:
            self._uid = self.core.writes.authenticate(self.session)
        return self._uid

    @property
    def username(self) -> str:
        """The user name part of the session (text before the first ``:``)."""
        return self.session.partition(":")[0]

    @staticmethod
    def fail(message: str, log_it: bool = True) -> list[Any]:
        """``[False, message]``, logged to oned.log as ``[ReM][E]`` like 1.4."""
        if log_it:
            _rem_log.error(message)
        return [False, message]


def ok(value: Any = None) -> list[Any]:
    """``[True, value]``, or the one-element ``[True]`` when ``value`` is None."""
    return [True] if value is None else [True, value]


ONE14_ORDER: tuple[str, ...] = (
    "system.listMethods",
    "system.methodExist",
    "system.methodHelp",
    "system.methodSignature",
    "system.multicall",
    "system.shutdown",
    "system.capabilities",
    "system.getCapabilities",
    "one.vm.allocate",
    "one.vm.deploy",
    "one.vm.action",
    "one.vm.migrate",
    "one.vm.info",
    "one.vmpool.info",
    "one.host.allocate",
    "one.host.info",
    "one.host.delete",
    "one.host.enable",
    "one.hostpool.info",
    "one.vn.allocate",
    "one.vn.info",
    "one.vn.delete",
    "one.vnpool.info",
    "one.user.allocate",
    "one.user.info",
    "one.user.delete",
    "one.userpool.info",
)
"""Order of ``system.listMethods`` in 1.4 (methods not listed here follow)."""


class Registry:
    """Name → :class:`MethodSpec`."""

    def __init__(self) -> None:
        self._methods: dict[str, MethodSpec] = {}
        self._lock = threading.Lock()

    def register(self, spec: MethodSpec) -> None:
        with self._lock:
            self._methods[spec.name] = spec

    def get(self, name: str) -> MethodSpec | None:
        return self._methods.get(name)

    def __contains__(self, name: str) -> bool:
        return name in self._methods

    def names(self) -> list[str]:
        """Registered names in 1.4's ``system.listMethods`` order."""
        pos = {n: i for i, n in enumerate(ONE14_ORDER)}
        order = list(self._methods)
        return sorted(order, key=lambda n: (pos.get(n, len(pos)), order.index(n)))


REGISTRY = Registry()
"""The registry oned serves."""


def load_methods() -> Registry:
    """Register every method oned serves in :data:`REGISTRY`; returns it.

    The method modules register their methods when imported. They are plain
    imports, so a missing module raises ``ImportError`` naming it (oned stops
    with that message) instead of being skipped. A new method module is added here.
    """
    # ``import pkg.mod``, not ``from pkg import mod``: the error then names the missing module
    import one_core.rpc.host_methods
    import one_core.rpc.system_methods
    import one_core.rpc.user_methods
    import one_core.rpc.vm_methods
    import one_core.rpc.vnet_methods  # noqa: F401

    return REGISTRY


def method(
    name: str,
    signature: str,
    help: str = "",
    registry: Registry | None = None,
    session: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``func(rq, *params)`` as XML-RPC method ``name``.

    ``session=False`` (``system.*`` methods only): the first parameter is not
    a session and the function gets every parameter.

    ::

        @method("one.host.info", "A:si", help="Returns host information")
        def host_info(rq: Request, hid: int) -> list:
            ...
    """

    def deco(func: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        (registry or REGISTRY).register(MethodSpec(name, signature, help, func, session))
        return func

    return deco


def dispatch(registry: Registry, core: Core, name: str, params: list[Any]) -> Any:
    """Run one call. Returns the response value; raises :class:`Fault`."""
    spec = registry.get(name)
    if spec is None:
        raise Fault(FAULT_NO_METHOD, f"Method '{name}' not defined")
    args = spec.check(params)
    try:
        if not spec.session:
            return spec.func(Request(core, registry, ""), *args)
        return spec.func(Request(core, registry, args[0]), *args[1:])
    except Fault:
        raise
    except DatabaseFailure as exc:  # nothing changed (docs/recovery.md): a refusal, not a fault
        _rem_log.error("%s: %s", name, exc)
        if registry is REGISTRY:
            return [False, str(exc)]
        from one_core.rpc.modern.errors import INTERNAL

        return [False, f"[{name}] {exc}", INTERNAL]
    except Exception as exc:  # xmlrpc-c turned uncaught exceptions into −500
        log.exception("Method %s raised", name)
        raise Fault(FAULT_INTERNAL, MSG_UNEXPECTED + str(exc)) from None
