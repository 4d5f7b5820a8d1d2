"""Virtual machines: states, paths, history, transfer scripts, the VM pool.

The life-cycle state machines that drive them live in :mod:`one_core.engine`.
"""
