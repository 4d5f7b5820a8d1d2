"""Unit tests of the exec hook driver's settings (the runs are in tests/hooks/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from one_hm_exec import plugin

from one_core.context import DriverContext


def ctx(**config: str) -> DriverContext:
    return DriverContext(role="hm", name="exec", config=config)


def test_hooks_dir_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ONE_LOCATION", raising=False)
    assert plugin.hooks_dir(ctx()) == "/usr/share/one/hooks"
    monkeypatch.setenv("ONE_LOCATION", "/srv/one")
    assert plugin.hooks_dir(ctx()) == "/srv/one/share/hooks"
    assert plugin.hooks_dir(ctx(hooks_dir="/h")) == "/h"


def test_resolve_command(tmp_path: Path) -> None:
    (tmp_path / "mine").write_text("")
    c = ctx(HOOKS_DIR=str(tmp_path))
    assert plugin.resolve_command(c, "/abs/cmd") == "/abs/cmd"
    assert plugin.resolve_command(c, "mine") == str(tmp_path / "mine")
    assert plugin.resolve_command(c, "sub/x") == str(tmp_path / "sub" / "x")
    assert plugin.resolve_command(c, "sh").endswith("/sh")
    assert plugin.resolve_command(c, "no-such-cmd-xyz") == str(tmp_path / "no-such-cmd-xyz")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, plugin.DEFAULT_TIMEOUT),
        ("5", 5.0),
        ("0", None),
        ("-1", None),
        ("junk", plugin.DEFAULT_TIMEOUT),
    ],
)
def test_timeout(value: str | None, expected: float | None) -> None:
    c = ctx() if value is None else ctx(TIMEOUT=value)
    assert plugin.timeout(c) == expected


def test_entry_point_is_installed() -> None:
    from one_core.drivers import installed

    assert any(ep.name == "exec" and ep.value == "one_hm_exec.plugin" for ep in installed("hm"))
