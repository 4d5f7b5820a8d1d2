"""oned runs under ``python -OO`` (one_core/daemon/optimize.py, issue 19)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from one_core.daemon.optimize import optimized_command
from one_core.testing.oned import OnedProcess

ROOT = Path(__file__).resolve().parents[2]


def test_command_starts_oned_again_under_oo():
    assert optimized_command(
        ["-f", "-p", "2633"], optimize=0, executable="/v/python", environ={}
    ) == [
        "/v/python",
        "-OO",
        "-m",
        "one_core.daemon",
        "-f",
        "-p",
        "2633",
    ]


@pytest.mark.parametrize(
    ("optimize", "executable", "environ"),
    [
        (2, "/v/python", {}),  # already under -OO: no second start
        (0, "/v/python", {"PYTHONOPTIMIZE": "0"}),  # the operator's choice
        (0, "/v/python", {"PYTHONOPTIMIZE": "1"}),
        (0, "", {}),  # no interpreter to start (embedded Python)
    ],
)
def test_goes_on_as_started(optimize, executable, environ):
    assert optimized_command([], optimize=optimize, executable=executable, environ=environ) is None


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


@pytest.mark.parametrize(("env", "optimized"), [({}, True), ({"PYTHONOPTIMIZE": "0"}, False)])
def test_oned_replaces_itself(tmp_path, env, optimized):
    """The started process (same pid) ends up under -OO and answers; with PYTHONOPTIMIZE
    set it runs as started."""
    one = OnedProcess(tmp_path / "one", env=env).start()
    try:
        assert one.proc is not None
        assert one.call("one.user.info", one.session, 0)[0] is True
        command = _cmdline(one.proc.pid)
        assert ("-OO" in command) is optimized
        assert command[1:] == (["-OO"] if optimized else []) + ["-m", "one_core.daemon", "-f"]
    finally:
        one.stop()


RUNTIME_SOURCES = [
    *(p for p in (ROOT / "one_core").rglob("*.py") if "testing" not in p.parts),
    *ROOT.glob("plugins/*/one_*/**/*.py"),
    *ROOT.glob("lib/*/one_*/**/*.py"),
]


def _narrowing_only(node: ast.Assert) -> bool:
    """``assert x is not None`` / ``assert isinstance(x, T)`` with no message: a hint for
    the type checker, true by construction, that -OO may drop."""
    test = node.test
    if node.msg is not None:
        return False
    if isinstance(test, ast.Compare):
        return (
            len(test.ops) == 1
            and isinstance(test.ops[0], ast.IsNot)
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value is None
        )
    return isinstance(test, ast.Call) and getattr(test.func, "id", "") == "isinstance"


def test_no_check_is_an_assert():
    """-OO drops asserts: in the code oned runs, an assert only narrows a type."""
    assert len(RUNTIME_SOURCES) > 150
    checks = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in RUNTIME_SOURCES
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Assert) and not _narrowing_only(node)
    ]
    assert checks == []


def test_this_interpreter_keeps_asserts():
    """The suite itself runs with asserts (pytest rewrites them)."""
    assert sys.flags.optimize == 0
