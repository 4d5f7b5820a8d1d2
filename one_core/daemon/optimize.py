"""oned runs under ``python -OO``: its code without docstrings (issue 19).

oned's modules and the libraries it loads carry about 1.3 MiB of docstrings — the
hookspecs are the driver author's manual — that a running daemon never shows: at the
sweep's 10,000-VM point oned's RSS was 40.5–40.7 MiB with them and 39.1–39.4 MiB without
(docs/performance.md, "Memory with 10,000 VMs"). Python drops them only when told at start-up (``-OO``, or
``PYTHONOPTIMIZE=2``), so the ``oned`` command, started any other way, replaces itself
(``execv``: same process id, same environment and arguments) with
``python -OO -m one_core.daemon <arguments>`` before it loads anything else.

``-OO`` also leaves out ``assert`` statements: no code of oned checks its input with them
(``tests/daemon/test_optimize.py`` holds the packages to that).

The operator's choice wins, as for glibc's settings (:mod:`one_core.daemon.malloc`): with
``PYTHONOPTIMIZE`` in the environment (``PYTHONOPTIMIZE=0``: keep the docstrings and
asserts, e.g. under a debugger) oned runs as started. The flag is not passed down:
drivers' and hooks' own Python processes start as usual.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

__all__ = ["OPTIMIZE_LEVEL", "optimized_command", "run_optimized"]

OPTIMIZE_LEVEL = 2
"""``-OO``: no docstrings, no asserts."""


def optimized_command(
    arguments: Sequence[str],
    *,
    optimize: int | None = None,
    executable: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str] | None:
    """The command line that starts oned again under ``-OO`` with ``arguments``, or None
    when this process should go on as it is: already optimized, the operator set
    ``PYTHONOPTIMIZE``, or no interpreter to start (an embedded Python)."""
    optimize = sys.flags.optimize if optimize is None else optimize
    executable = sys.executable if executable is None else executable
    environ = os.environ if environ is None else environ
    if optimize >= OPTIMIZE_LEVEL or "PYTHONOPTIMIZE" in environ or not executable:
        return None
    return [executable, "-" + "O" * OPTIMIZE_LEVEL, "-m", "one_core.daemon", *arguments]


def run_optimized(arguments: Sequence[str]) -> None:
    """Replace this process with oned under ``-OO`` (:func:`optimized_command`); returns
    only when it goes on as it is."""
    command = optimized_command(arguments)
    if command is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)
