"""Dummy drivers for OpenNebula-py: ``dummy`` in ``one.im``, ``one.vmm`` and ``one.tm``.

The embedded default of oned: a cloud that needs no hypervisor, used by
``make demo``, the tests and the benchmarks. Everything succeeds unless told
otherwise; see :mod:`one_drivers_dummy.control` for delays and injected
failures.
"""
