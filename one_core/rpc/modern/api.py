"""How a modern-dialect method is declared: ``@api(name, signature)`` and :class:`Call`.

A method is ``func(call, *params) -> value``: the session was already
authenticated (plain password or login token, :mod:`one_core.rpc.modern.auth`),
``call`` carries the core and the caller; it returns the value of a successful
call or raises :class:`~one_core.rpc.modern.errors.ApiError`. The wrapper turns
that into ``[True, value, 0]`` / ``[False, "[one.x.y] message", code]``.

Trailing parameters modern OpenNebula treats as optional are declared with
``optional`` (same letters as the signature): a call may leave them out, a
call that sends them must send the right types (fault −501 otherwise, as
xmlrpc-c); the function then gets them as extra positional arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from one_core.rpc.modern import errors
from one_core.rpc.modern.auth import authenticate
from one_core.rpc.modern.errors import ApiError
from one_core.rpc.registry import MethodSpec, Registry, Request

if TYPE_CHECKING:
    from one_core.daemon.core import Core
    from one_core.pools.user import User


class ModernRegistry(Registry):
    """A registry that also answers every method of the object families this server
    does not have (``one.datastore.*``...) with a "not supported" error, never a fault."""

    def __init__(self) -> None:
        super().__init__()
        self._refused: dict[str, tuple[str, int]] = {}

    def refuse_family(self, family: str, what: str, code: int = errors.XML_RPC_API) -> None:
        """Answer every ``one.<family>.<method>`` with ``<what> are not supported ...``."""
        self._refused[family] = (what, code)

    def refused(self, name: str) -> tuple[str, int] | None:
        """``(what, code)`` when ``name`` belongs to a refused family."""
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "one" and parts[2]:
            return self._refused.get(parts[1])
        return None

    def get(self, name: str) -> MethodSpec | None:
        spec = super().get(name)
        refused = self.refused(name) if spec is None else None
        if refused is not None:  # built per call: client-chosen names are never stored
            spec = _refusal(name, f"{refused[0]} are", refused[1])
        return spec


log = logging.getLogger("one.rpc")

REGISTRY = ModernRegistry()
"""The methods of the modern dialect (served on :data:`one_core.rpc.modern.PATH`)."""


@dataclass
class ModernSpec(MethodSpec):
    """A :class:`MethodSpec` whose last ``optional`` parameters may be left out."""

    optional: str = ""
    _by_count: dict[int, MethodSpec] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        ret = self.signature.partition(":")[0]
        for extra in range(len(self.optional) + 1):
            sig = f"{ret}:{self.params}{self.optional[:extra]}"
            self._by_count[len(self.params) + extra] = MethodSpec(
                self.name, sig, self.help, self.func
            )

    def check(self, params: list[Any]) -> list[Any]:
        """Required parameters as :meth:`MethodSpec.check`, then the optional ones sent."""
        n = max(len(self.params), min(len(params), len(self.params) + len(self.optional)))
        return self._by_count[n].check(params)


@dataclass(frozen=True, slots=True)
class Call:
    """One authenticated call: the core, the method name and the caller."""

    core: Core
    method: str
    user: User

    @property
    def uid(self) -> int:
        return self.user.oid

    @property
    def is_admin(self) -> bool:
        """oneadmin (uid 0): 1.4 had no groups, so no other administrators."""
        return self.user.oid == 0

    def authorize(self, op: str, kind: str, oid: int, owner: int | None = None) -> None:
        """Allow oneadmin, and the owner when ``owner`` is given; else AUTHORIZATION."""
        if self.is_admin or (owner is not None and owner == self.uid):
            return
        raise ApiError(
            errors.AUTHORIZATION,
            f"User [{self.uid}] : Not authorized to perform {op} {kind} [{oid}].",
        )

    @staticmethod
    def missing(what: str, oid: int) -> ApiError:
        """``Error getting <what> [<oid>].`` (NO_EXISTS)."""
        return ApiError(errors.NO_EXISTS, f"Error getting {what} [{oid}].")


def _wrap(name: str, func: Callable[..., Any]) -> Callable[..., list[Any]]:
    def run(rq: Request, *params: Any) -> list[Any]:
        user = authenticate(rq.core, rq.session)
        if user is None:
            return [
                False,
                f"[{name}] User couldn't be authenticated, aborting call.",
                errors.AUTHENTICATION,
            ]
        try:
            value = func(Call(rq.core, name, user), *params)
        except ApiError as exc:
            return [False, f"[{name}] {exc.message}", exc.code]
        except Exception:  # today's oned answers INTERNAL, not a fault
            log.exception("Method %s raised", name)
            return [False, f"[{name}] Internal error, see oned.log.", errors.INTERNAL]
        return [True, value, errors.SUCCESS]

    run.__doc__ = func.__doc__
    return run


def api(
    name: str, signature: str, help: str = "", optional: str = ""
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``func(call, *params)`` as modern method ``name`` (see the module doc)."""

    def deco(func: Callable[..., Any]) -> Callable[..., Any]:
        REGISTRY.register(ModernSpec(name, signature, help, _wrap(name, func), optional=optional))
        return func

    return deco


def _refusal(name: str, what: str, code: int) -> ModernSpec:
    """A method answering ``[False, "[name] <what> not supported by this server", code]``."""

    def refuse(call: Call, *params: Any) -> Any:
        raise ApiError(code, f"{what} {errors.UNSUPPORTED}")

    return ModernSpec(name, "A:s", f"{what} {errors.UNSUPPORTED}", _wrap(name, refuse))


def unsupported(names: Iterable[str], what: str, code: int = errors.XML_RPC_API) -> None:
    """Register ``names`` as methods answering ``[False, "<what> is not supported ...", code]``."""
    for name in names:
        REGISTRY.register(_refusal(name, f"{what} is", code))
