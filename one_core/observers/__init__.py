"""Observers shipped with the core (entry-point group ``one.observers``).

An observer is a callable ``setup(pm, ctx, settings)`` run once for every
configured driver, right after the driver is loaded: ``pm`` is the driver's
:class:`pluggy.PluginManager`, ``ctx`` its
:class:`~one_core.context.DriverContext`, ``settings`` oned.conf's single
attributes. It may register hook wrappers on ``pm`` or call
``pm.add_hookcall_monitoring``; it must not change what the driver returns.
"""
