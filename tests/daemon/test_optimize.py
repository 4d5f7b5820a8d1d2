"""oned runs under ``python -OO`` (one_core/daemon/optimize.py, issue 19)."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from one_core.daemon import optimize
from one_core.daemon.optimize import bytecode_ready, compile_bytecode, optimized_command
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


def _module_from(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    return importlib.util.module_from_spec(spec)


def test_bytecode_ready_names_a_module_without_it(tmp_path):
    """A module whose -OO bytecode is missing is named; once written, none is."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text('"""doc"""\n')
    (package / "tests").mkdir()
    (package / "tests" / "test_x.py").write_text("X = 1\n")
    module = _module_from(package / "__init__.py")
    where = [str(tmp_path)]
    assert bytecode_ready([module], libraries=(), roots=where) == str(package / "__init__.py")
    assert bytecode_ready([module], libraries=()) is None  # not where the modules that count are
    assert compile_bytecode([str(package)]) is True
    assert bytecode_ready([module], libraries=(), roots=where) is None
    assert not list((package / "tests").rglob("*.pyc"))  # test suites are left alone


def test_bytecode_ready_checks_libraries_not_imported_yet(tmp_path, monkeypatch):
    (tmp_path / "onelib_probe.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert bytecode_ready([], libraries=("onelib_probe",)) == str(tmp_path / "onelib_probe.py")
    assert "onelib_probe" not in sys.modules  # found, not imported
    assert bytecode_ready([], libraries=("no_such_library_here",)) is None


def test_not_ready_goes_on_as_started(monkeypatch, capsys):
    monkeypatch.setattr(optimize, "optimized_command", lambda arguments: ["py", "-OO"])
    monkeypatch.setattr(optimize, "bytecode_ready", lambda: "/lib/x.py")
    monkeypatch.setattr(optimize.os, "execv", pytest.fail)
    optimize.run_optimized(["-f"])
    assert (
        "no -OO bytecode for /lib/x.py; python -m one_core.daemon.optimize"
        in capsys.readouterr().err
    )
    monkeypatch.setattr(optimize, "bytecode_ready", lambda: ast.__file__)  # the stdlib's own
    optimize.run_optimized(["-f"])
    assert (
        f"-OO -m compileall -q {os.path.realpath(Path(ast.__file__).parent)}"
        in capsys.readouterr().err
    )


def test_ready_replaces_the_process(monkeypatch):
    run = []
    monkeypatch.setattr(optimize, "optimized_command", lambda arguments: ["py", "-OO", *arguments])
    monkeypatch.setattr(optimize, "bytecode_ready", lambda: None)
    monkeypatch.setattr(optimize.os, "execv", lambda path, argv: run.append((path, argv)))
    optimize.run_optimized(["-f"])
    assert run == [("py", ["py", "-OO", "-f"])]


def test_exec_failure_goes_on_as_started(monkeypatch, capsys):
    def refuse(path, argv):
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(optimize, "optimized_command", lambda arguments: ["/gone/python", "-OO"])
    monkeypatch.setattr(optimize, "bytecode_ready", lambda: None)
    monkeypatch.setattr(optimize.os, "execv", refuse)
    optimize.run_optimized([])
    assert "cannot start /gone/python -OO" in capsys.readouterr().err


def test_deciding_loads_no_compiler():
    """The check that runs at every start imports nothing of the bytecode compiler."""
    code = "import sys, one_core.daemon.optimize\nprint('compileall' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]


def _ready_for_oned() -> bool:
    """What oned decides here (same interpreter, the modules it has loaded by then)."""
    code = "import one_core.daemon\nfrom one_core.daemon.optimize import bytecode_ready\nprint(bytecode_ready())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "None"


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


@pytest.mark.parametrize(("env", "optimized"), [({}, True), ({"PYTHONOPTIMIZE": "0"}, False)])
def test_oned_replaces_itself(tmp_path, env, optimized):
    """The started process (same pid) ends up under -OO and answers (the bytecode is there:
    ``make setup`` and ``make test`` write it); with PYTHONOPTIMIZE set it runs as started."""
    if optimized:  # make setup / make test write the bytecode; without it oned says so
        assert _ready_for_oned(), "no -OO bytecode: python -m one_core.daemon.optimize"
    one = OnedProcess(tmp_path / "one", env=env).start()
    try:
        assert one.proc is not None
        assert one.call("one.user.info", one.session, 0)[0] is True
        command = _cmdline(one.proc.pid)
        assert ("-OO" in command) is optimized
        assert command[1:] == (["-OO"] if optimized else []) + ["-m", "one_core.daemon", "-f"]
    finally:
        one.stop()


class ConsoleScriptOned(OnedProcess):
    """oned started as operators start it: the ``oned`` console script."""

    def command(self) -> list[str]:
        return [str(Path(sys.executable).parent / "oned"), "-f"]


def test_the_oned_command_replaces_itself(tmp_path):
    assert _ready_for_oned(), "no -OO bytecode: python -m one_core.daemon.optimize"
    one = ConsoleScriptOned(tmp_path / "one").start()
    try:
        assert one.proc is not None
        assert one.call("one.user.info", one.session, 0)[0] is True
        assert _cmdline(one.proc.pid)[1:] == ["-OO", "-m", "one_core.daemon", "-f"]
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
