"""oned runs under ``python -OO`` when its bytecode allows: its code without docstrings (issue 19).

oned's modules and the libraries it loads carry about 1.3 MiB of docstrings — the
hookspecs are the driver author's manual — that a running daemon never shows: at the
sweep's 10,000-VM point oned's RSS was 40.5–40.7 MiB with them and 39.1–39.4 MiB without
(docs/performance.md, "Memory with 10,000 VMs"). Python drops them only when told at
start-up (``-OO``, or ``PYTHONOPTIMIZE=2``), so the ``oned`` command, started any other
way, replaces itself (``execv``: same process id, same environment and arguments) with
``python -OO -m one_core.daemon <arguments>`` before it loads anything else.

Only when the ``-OO`` bytecode is there. ``-OO`` reads ``*.opt-2.pyc`` files, which
``pip``/``uv`` do not write and some Pythons (Debian's ``python3``) do not ship: without
them every start would compile each module again and keep the compiler's memory (48.8
instead of 36 MiB idle, measured). :func:`bytecode_ready` checks the modules loaded so
far (the standard library's, site-packages' and oned's own) and oned's main libraries;
when one lacks it, oned runs as started and says so on stderr.
``python -m one_core.daemon.optimize`` (run by ``make``) writes that bytecode for the
libraries and the project: :func:`compile_bytecode`.

``-OO`` also leaves out ``assert`` statements: no code of oned checks its input with them
(``tests/daemon/test_optimize.py`` holds the packages to that).

The operator's choice wins, as for glibc's settings (:mod:`one_core.daemon.malloc`): with
``PYTHONOPTIMIZE`` in the environment (``PYTHONOPTIMIZE=0``: keep the docstrings and
asserts, e.g. under a debugger) oned runs as started. The flag is not passed down:
drivers' and hooks' own Python processes start as usual.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType

__all__ = [
    "LIBRARIES",
    "OPTIMIZE_LEVEL",
    "bytecode_ready",
    "compile_bytecode",
    "optimized_command",
    "run_optimized",
]

OPTIMIZE_LEVEL = 2
"""``-OO``: no docstrings, no asserts."""

LIBRARIES = ("peewee", "pluggy", "stevedore", "uvicorn")
"""oned's main libraries, not imported yet when it decides: their bytecode is checked too
(found, not imported)."""


def _opt2_missing(origin: str | None) -> bool:
    if not origin or not origin.endswith(".py"):
        return False  # built in, frozen, an extension: no bytecode
    return not os.path.exists(importlib.util.cache_from_source(origin, optimization=OPTIMIZE_LEVEL))


def _checked_roots() -> tuple[str, ...]:
    """Where the modules that count are: the standard library, site-packages, oned's own
    package. A module from elsewhere (a ``sitecustomize`` on ``PYTHONPATH``, a script's
    directory) is compiled at start if need be: a few files, not the hundreds above."""
    import site  # loaded at start-up by every Python that runs with site-packages

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # one_core/
    places = (os.path.dirname(os.__file__), *site.getsitepackages(), here)
    return tuple(os.path.join(os.path.realpath(p), "") for p in places)


def bytecode_ready(
    modules: Iterable[ModuleType] | None = None,
    libraries: Sequence[str] = LIBRARIES,
    roots: Sequence[str] | None = None,
) -> str | None:
    """None when every module of ``modules`` (default: those loaded now) found under
    ``roots`` (default: :func:`_checked_roots`) and every module of ``libraries`` has its
    ``-OO`` bytecode; else the path of the first source without it."""
    loaded = list(sys.modules.values()) if modules is None else list(modules)
    under = (
        tuple(os.path.join(os.path.realpath(r), "") for r in roots) if roots else _checked_roots()
    )
    origins = [getattr(getattr(m, "__spec__", None), "origin", None) for m in loaded]
    origins = [o for o in origins if o and os.path.realpath(o).startswith(under)]
    for name in libraries:
        spec = importlib.util.find_spec(name)
        origins.append(None if spec is None else spec.origin)
    return next((o for o in origins if o is not None and _opt2_missing(o)), None)


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


def _how_to_compile(missing: str) -> str:
    """What to run so that ``missing`` gets its ``-OO`` bytecode."""
    import sysconfig

    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"])
    if os.path.realpath(missing).startswith(stdlib + os.sep):
        return (
            f"the standard library has no -OO bytecode ({missing}); its owner can write it:"
            f" {sys.executable} -OO -m compileall -q {stdlib}"
        )
    return f"no -OO bytecode for {missing}; python -m one_core.daemon.optimize writes it"


def run_optimized(arguments: Sequence[str]) -> None:
    """Replace this process with oned under ``-OO`` (:func:`optimized_command`) when the
    bytecode is there (:func:`bytecode_ready`); returns only when it goes on as it is."""
    command = optimized_command(arguments)
    if command is None:
        return
    missing = bytecode_ready()
    if missing is not None:
        print(
            f"oned: running with docstrings in memory: {_how_to_compile(missing)}", file=sys.stderr
        )
        return
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(command[0], command)
    except OSError as exc:  # the interpreter went away under us: go on as started
        print(f"oned: cannot start {command[0]} -OO ({exc}): running as started", file=sys.stderr)


SKIPPED = r"(\.[^/\\]+|tests?|node_modules)"
"""Directories :func:`compile_bytecode` leaves alone below the one it compiles: hidden
ones (``.git``), test suites."""


def _skipped_below(root: str) -> re.Pattern[str]:
    return re.compile(re.escape(os.path.join(root, "")) + rf"(.*[/\\])?{SKIPPED}[/\\]")


def _package_dirs() -> list[str]:
    """This environment's site-packages, whole, and the packages (directories with an
    ``__init__.py``) of the other ``sys.path`` directories outside the standard library:
    editable installs, the working directory."""
    import sysconfig

    paths = sysconfig.get_paths()
    stdlib = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib")}
    site = {os.path.realpath(paths[k]) for k in ("purelib", "platlib")}
    found: dict[str, None] = {}
    for entry in (os.path.realpath(p or ".") for p in sys.path):
        if entry in site:
            found[entry] = None
            continue
        if not os.path.isdir(entry) or entry in stdlib or os.path.dirname(entry) in stdlib:
            continue  # the standard library, lib-dynload, a zip
        for name in sorted(os.listdir(entry)):
            package = os.path.join(entry, name)
            if os.path.isfile(os.path.join(package, "__init__.py")) and not re.fullmatch(
                SKIPPED, name
            ):
                found[package] = None
    return list(found)


def compile_bytecode(paths: Iterable[str] | None = None, quiet: bool = True) -> bool:
    """Write the ``-OO`` bytecode of ``paths`` (default: :func:`_package_dirs`). The
    standard library is never written to: it belongs to the Python install (a Python
    without its ``-OO`` bytecode runs oned as started). Returns whether every file
    compiled."""
    import compileall  # here: oned itself never loads it

    ok = True
    for path in _package_dirs() if paths is None else paths:
        ok &= bool(
            compileall.compile_dir(
                path,
                quiet=2 if quiet else 0,
                optimize=OPTIMIZE_LEVEL,
                rx=_skipped_below(path),
                workers=0,
            )
        )
    return ok


def main() -> int:
    """``python -m one_core.daemon.optimize``: write the ``-OO`` bytecode (``make`` runs it)."""
    if not compile_bytecode():
        print(
            "one_core.daemon.optimize: some files did not compile (they do not compile at"
            " any level: Python cannot import them either)",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
