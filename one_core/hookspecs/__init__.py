"""Hook specifications: the contract between the core and its drivers.

One module per role; each module is the manual of its role:

=========  ==============  =========================================
role       entry points    module
=========  ==============  =========================================
im         ``one.im``      :mod:`one_core.hookspecs.im`
vmm        ``one.vmm``     :mod:`one_core.hookspecs.vmm`
tm         ``one.tm``      :mod:`one_core.hookspecs.tm`
hm         ``one.hm``      :mod:`one_core.hookspecs.hm`
sched      ``one.sched``   :mod:`one_core.hookspecs.sched`
=========  ==============  =========================================

Every role also accepts the optional life-cycle hooks of
:mod:`one_core.hookspecs.common` (``driver_start``, ``driver_stop``).

A driver is a module (or any object) named by an entry point, carrying
functions decorated with :data:`hookimpl`. Every hook is called with keyword
arguments; a hookimpl may accept any subset of them (pluggy passes only the
names it asks for). A failure is ``raise DriverError("text")``.
"""

from __future__ import annotations

import pluggy

PROJECT = "one"

hookspec = pluggy.HookspecMarker(PROJECT)
"""Marker for hook specifications (core only)."""

hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marker for hook implementations: decorate your driver's functions with it."""

ROLES: tuple[str, ...] = ("im", "vmm", "tm", "hm", "sched")
"""The driver roles, in the order oned loads them."""

ENTRY_POINT_GROUPS: dict[str, str] = {role: f"one.{role}" for role in ROLES}
"""Entry-point group of each role."""

__all__ = ["PROJECT", "ROLES", "ENTRY_POINT_GROUPS", "hookimpl", "hookspec"]
