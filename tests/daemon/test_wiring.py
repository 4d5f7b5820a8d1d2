"""oned's own modules are wired by plain imports: a missing one stops oned, naming it."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

BLOCKER = """\
import sys

BLOCKED = {blocked!r}


class _Block:
    \"\"\"Finds nothing for BLOCKED: the module is as good as deleted.\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name == BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, _Block())
"""


@pytest.mark.parametrize(
    "module",
    [
        "one_core.rpc.vnet_methods",  # a method module
        "one_core.scheduling",  # a component
        "one_core.db.vnet_models",  # a model module
    ],
)
def test_missing_module_stops_oned(
    oned_factory: Callable[..., Any], tmp_path: Path, module: str
) -> None:
    shim = tmp_path / f"shim-{module}"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(BLOCKER.format(blocked=module))
    o = oned_factory(start=False, env={"PYTHONPATH": str(shim)})
    o.start(wait=False)
    assert o.proc.wait(60) == 1
    message = f"Error: Can not start oned, module {module} is missing"
    assert [line for line in o.stderr().splitlines() if line] == [message]
    assert f"[ONE][E]: {message}" in o.log()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", o.port), timeout=1).close()
    assert not (o.var / ".lock").exists()


def test_the_shim_blocks_nothing_else(oned_factory: Callable[..., Any], tmp_path: Path) -> None:
    """The same shim naming a module oned does not need: oned starts (the test can fail)."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(BLOCKER.format(blocked="one_core.no_such_module"))
    o = oned_factory(env={"PYTHONPATH": str(shim)})
    assert "XML-RPC server listening" in o.log()
