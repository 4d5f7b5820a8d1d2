"""one_driverkit.settings: section, then defaults file, then built-in defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from one_driverkit.settings import (
    DriverSettings,
    cached,
    defaults_in_force,
    load_defaults_file,
    lookup,
)

from one_core.context import DriverContext
from one_core.errors import DriverError

BUILTIN = {"TIMEOUT": "300", "TOOL": "mytool", "POLL": "2"}


@pytest.fixture
def packaged(tmp_path: Path) -> str:
    path = tmp_path / "my.conf"
    path.write_text('tool = "packaged-tool"\nOS = [ BOOT = hd ]\ntool = "second"\n')
    return str(path)


def ctx(config=None, defaults=None, role="vmm") -> DriverContext:
    return DriverContext(role=role, name="my", config=config or {}, defaults=defaults or {})


def test_section_then_defaults_file_then_builtin(packaged: str) -> None:
    s = DriverSettings(ctx({"Tool": " from-section "}), BUILTIN, packaged)
    assert s.get("TOOL") == "from-section"
    assert DriverSettings(ctx(), BUILTIN, packaged).get("tool") == "packaged-tool"
    assert DriverSettings(ctx(), BUILTIN).get("TOOL") == "mytool"
    assert DriverSettings(ctx(), BUILTIN).get("UNKNOWN") == ""
    assert DriverSettings(ctx(), BUILTIN).find("TOOL") is None


def test_configured_defaults_file_replaces_the_packaged_one(packaged: str) -> None:
    s = DriverSettings(ctx(defaults={"tool": "configured"}), BUILTIN, packaged)
    assert s.get("TOOL") == "configured"
    assert s.defaults == {"TOOL": "configured"}
    assert "OS" not in s.defaults


def test_packaged_defaults_first_value_and_vectors(packaged: str) -> None:
    values = load_defaults_file(packaged)
    assert values["TOOL"] == "packaged-tool"
    assert values["OS"] == {"BOOT": "hd"}
    assert defaults_in_force(ctx(), packaged) is values
    assert defaults_in_force(ctx(), None) == {}
    # a vector attribute is not a setting
    assert DriverSettings(ctx(), {"OS": "x"}, packaged).get("OS") == "x"


def test_aliases_in_order() -> None:
    s = DriverSettings(ctx({"OLD_NAME": "a"}, {"NEW_NAME": "b"}), BUILTIN)
    assert s.get("NEW_NAME", "OLD_NAME") == "b"
    assert s.get("OTHER", "OLD_NAME") == "a"


def test_blank_values(monkeypatch: pytest.MonkeyPatch) -> None:
    config, defaults = {"TOOL": ""}, {"TOOL": "from-file"}
    assert DriverSettings(ctx(config, defaults), BUILTIN).get("TOOL") == ""
    lenient = DriverSettings(ctx(config, defaults), BUILTIN, blank_is_set=False)
    assert lenient.get("TOOL") == "from-file"
    monkeypatch.setenv("MY_TOOL", " env-tool ")
    assert DriverSettings(ctx(), BUILTIN).get("TOOL", env=("NOPE", "MY_TOOL")) == "env-tool"
    assert DriverSettings(ctx(config), BUILTIN).get("TOOL", env=("MY_TOOL",)) == ""


def test_numbers() -> None:
    s = DriverSettings(ctx({"TIMEOUT": "12.5", "POLL": "0", "BLANK": ""}), BUILTIN, label="My")
    assert s.number("TIMEOUT") == 12.5
    assert s.number("POLL", minimum=0.1) == 0.1
    assert DriverSettings(ctx(), BUILTIN).number("POLL") == 2.0
    assert DriverSettings(ctx({"POLL": ""}), BUILTIN).number("POLL") == 2.0
    assert DriverSettings(ctx({"POLL": ""}), BUILTIN).number("POLL", blank=7) == 7
    assert s.number("BLANK") == 0.0
    with pytest.raises(DriverError, match=r"^My driver setting TIMEOUT is not a number: 'soon'$"):
        DriverSettings(ctx({"TIMEOUT": "soon"}), BUILTIN, label="My").number("TIMEOUT")


def test_limits() -> None:
    assert DriverSettings(ctx({"T": "30"})).limit("T") == 30.0
    assert DriverSettings(ctx({"T": "0"})).limit("T") is None
    assert DriverSettings(ctx({"T": "-1"})).limit("T") is None
    assert DriverSettings(ctx({"T": ""}), {"T": "60"}).limit("T") is None
    assert DriverSettings(ctx(), {"T": "60"}).limit("T") == 60.0
    with pytest.raises(DriverError, match="my driver setting T is not a number"):
        DriverSettings(ctx({"T": "x"})).limit("T")


def test_lookup_is_case_insensitive_and_text_only() -> None:
    assert lookup({"a": " x "}, "A") == "x"
    assert lookup({"A": {"B": "c"}}, "a") is None
    assert lookup({}, "A") is None


def test_cached_builds_once_per_context() -> None:
    c = ctx()
    built: list[int] = []

    def build() -> int:
        built.append(1)
        return len(built)

    assert cached(c, "n", build) == 1
    assert cached(c, "n", build) == 1
    c.state.pop("n")
    assert cached(c, "n", build) == 2
