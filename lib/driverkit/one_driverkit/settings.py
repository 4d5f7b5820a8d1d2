"""A driver's settings: its oned.conf section, then its defaults file, then built-in values.

Every 1.4 driver read its settings the same way, and so do ours::

    VM_MAD = [ name = "kvm", executable = "one_vmm_kvm", default = "vmm_kvm/vmm_kvm.conf",
               shutdown_timeout = "120" ]

A setting (keys are case-insensitive) comes from

1. the driver's section (``ctx.config``);
2. else a single attribute of the same name in its defaults file
   (``ctx.defaults``; without one configured, the file the driver ships in
   its package, if any);
3. else, optionally, environment variables the caller names;
4. else the driver's built-in default.

A driver author writes::

    from one_driverkit.settings import DriverSettings, cached

    BUILTIN = {"SHUTDOWN_TIMEOUT": "300", "TOOL": "mytool"}
    PACKAGED = os.path.join(os.path.dirname(__file__), "my_driver.conf")

    def settings(ctx):
        return cached(ctx, "my_settings", lambda: MySettings.from_context(ctx))

    # in MySettings.from_context:
    s = DriverSettings(ctx, BUILTIN, PACKAGED, label="My")
    timeout = s.number("SHUTDOWN_TIMEOUT", minimum=0)   # DriverError if not a number
    tool = s.get("TOOL")
    limit = s.limit("COMMAND_TIMEOUT")                  # None for 0: no limit

and reads the template defaults for rendering from ``s.defaults``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from one_core.api import DriverError

if TYPE_CHECKING:
    from one_core.api import DriverContext

T = TypeVar("T")


@functools.cache
def load_defaults_file(path: str) -> dict[str, Any]:
    """A defaults file (template syntax) as a dict: upper-case names, first value of each.

    Single attributes are text, vector attributes dicts, as in ``ctx.defaults``.
    Read once per path; do not modify the dict returned.
    """
    from one_core.api import Template

    values: dict[str, Any] = {}
    for name, value in Template.parse_file(path).attributes:
        values.setdefault(name.upper(), value)
    return values


def defaults_in_force(ctx: DriverContext, packaged: str | None = None) -> Mapping[str, Any]:
    """The configured defaults file's values (upper-case names), else the ``packaged`` file's.

    Without a configured file and with ``packaged`` ``None``: empty.
    """
    if ctx.defaults:
        return {str(k).upper(): v for k, v in ctx.defaults.items()}
    return load_defaults_file(packaged) if packaged else {}


def lookup(mapping: Mapping[str, Any], key: str) -> str | None:
    """The single (text) value of ``key`` in ``mapping``, case-insensitively, stripped.

    ``None`` when absent or when the value is not text (a vector attribute).
    """
    key = key.upper()
    for k, v in mapping.items():
        if str(k).upper() == key and isinstance(v, str):
            return v.strip()
    return None


def cached(ctx: DriverContext, name: str, build: Callable[[], T]) -> T:
    """``ctx.state[name]``, built with ``build()`` on first use (settings read once per driver).

    ``ctx.state.pop(name, None)`` (e.g. in ``driver_start``) makes the next call read again.
    """
    found = ctx.state.get(name)
    if found is None:
        found = ctx.state[name] = build()
    return found


class DriverSettings:
    """The settings of one driver instance, looked up as the module docstring says.

    :param ctx: the driver's context (its section and defaults file).
    :param builtin: built-in defaults, upper-case keys, text values.
    :param packaged: the defaults file shipped with the driver, used when
        oned.conf names none (``None``: no such file).
    :param label: the driver's name in error messages (``"KVM driver setting
        X is not a number"``).
    :param blank_is_set: whether a blank value (``x = ""``) counts as set
        (the default: it means "empty", e.g. no ``sudo``) or falls through
        to the next source.
    """

    def __init__(
        self,
        ctx: DriverContext,
        builtin: Mapping[str, str] | None = None,
        packaged: str | None = None,
        *,
        label: str | None = None,
        blank_is_set: bool = True,
    ):
        self.ctx = ctx
        self.builtin = {k.upper(): v for k, v in (builtin or {}).items()}
        self.defaults: Mapping[str, Any] = defaults_in_force(ctx, packaged)
        self.label = label or ctx.name
        self.blank_is_set = blank_is_set

    def find(self, key: str, *aliases: str, env: tuple[str, ...] = ()) -> str | None:
        """The configured value of ``key`` (else of each alias in turn), ``None`` if unset.

        Each name is looked up in the section, then in the defaults file;
        then the environment variables ``env``. Built-in defaults do not count.
        """
        for name in (key, *aliases):
            for source in (self.ctx.config, self.defaults):
                found = lookup(source, name)
                if found is not None and (found or self.blank_is_set):
                    return found
        for name in env:
            if os.environ.get(name):
                return os.environ[name].strip()
        return None

    def get(self, key: str, *aliases: str, env: tuple[str, ...] = ()) -> str:
        """:meth:`find`, else the built-in default of ``key``, else ``""``."""
        found = self.find(key, *aliases, env=env)
        return found if found is not None else self.builtin.get(key.upper(), "")

    def number(
        self,
        key: str,
        *aliases: str,
        blank: float | None = None,
        minimum: float | None = None,
    ) -> float:
        """The setting as a number; :class:`DriverError` when it is not one.

        A blank value gives ``blank`` (default: the built-in default of
        ``key``, else 0); the result is raised to ``minimum`` if given.
        """
        text = self.get(key, *aliases)
        if not text:
            value = (
                self._parse(key, self.builtin.get(key.upper()) or "0") if blank is None else blank
            )
        else:
            value = self._parse(key, text)
        return value if minimum is None else max(value, minimum)

    def limit(self, key: str, *aliases: str) -> float | None:
        """A time limit in seconds: ``None`` (no limit) when 0, negative or blank."""
        value = self.number(key, *aliases, blank=0.0)
        return value if value > 0 else None

    def _parse(self, key: str, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise DriverError(
                f"{self.label} driver setting {key} is not a number: {text!r}"
            ) from None
