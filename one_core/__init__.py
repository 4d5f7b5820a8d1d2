"""OpenNebula-py: the OpenNebula 1.4 cloud manager rebuilt as a slim core plus drivers.

The core (this package) knows no hypervisor, transfer method or scheduling policy:
those are drivers, each its own distribution, found through entry points
(``one.im``, ``one.vmm``, ``one.tm``, ``one.hm``, ``one.sched``) and selected by
name in ``oned.conf``. The hook specifications in :mod:`one_core.hookspecs` are
the driver author's manual.
"""

__version__ = "0.1.0"
