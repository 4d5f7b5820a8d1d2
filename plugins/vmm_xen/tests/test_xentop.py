"""xentop batch output and the xm/xl output readers (fixtures written in Xen 3.4/4.11 formats)."""

from __future__ import annotations

import pathlib

import pytest
from one_vmm_xen import tools, xentop

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
XEN411 = (FIXTURES / "xentop-b-i2-xen4.11.txt").read_text()
XEN34 = (FIXTURES / "xentop-b-i2-xen3.4-dom0-nolimit.txt").read_text()


def test_last_iteration_is_used() -> None:
    info = xentop.poll_info(xentop.find(XEN411, "one-5"))
    assert info == {
        "USEDMEMORY": "524288",
        "USEDCPU": "3.4",
        "NETTX": "13",
        "NETRX": "36",
        "STATE": "a",
    }


def test_migrating_prefix_and_shutdown_state() -> None:
    migrating = xentop.find(XEN411, "one-9")
    assert migrating is not None and migrating.migrating
    assert xentop.poll_info(migrating)["USEDCPU"] == "25.1"
    assert xentop.poll_info(xentop.find(XEN411, "one-7"))["STATE"] == "a"  # s → a (1.4)


def test_unknown_domain_is_none() -> None:
    assert xentop.find(XEN411, "one-55") is None
    assert xentop.find(XEN411, "one") is None  # whole names only
    assert xentop.find("", "one-5") is None


def test_summary_lines_and_no_limit() -> None:
    names = [d.name for d in xentop.domains(XEN34)]
    assert names == ["Domain-0", "one-12"]
    dom0 = xentop.domains(XEN34)[0]
    assert dom0.get("MAXMEM(k)") == "no_limit"
    assert dom0.get("CPU(%)") == "31.2"
    assert xentop.poll_info(xentop.find(XEN34, "one-12")) == {
        "USEDMEMORY": "7168000",
        "USEDCPU": "0.0",
        "NETTX": "7604730",
        "NETRX": "17270990",
        "STATE": "p",
    }


@pytest.mark.parametrize(
    ("state", "letter"),
    [
        ("-----r", "a"),
        ("--b---", "a"),
        ("---s--", "a"),
        ("-----d", "a"),
        ("--p---", "p"),
        ("----c-", "e"),
        ("------", "-"),
        ("-b-p--", "-"),
    ],
)
def test_state_letters(state: str, letter: str) -> None:
    assert xentop.poll_state(state) == letter


def test_started_domain_and_config_fields() -> None:
    assert tools.started_domain('Using config file "/x".\nStarted domain one-5\n') == "one-5"
    assert tools.started_domain("Parsing config from /x\n") is None
    config = "name = 'one-7'\n#O CPU_CREDITS = 128\nmemory  = '1'\n"
    assert tools.config_name(config) == "one-7"
    assert tools.config_credits(config) == 128
    assert tools.config_credits("name = 'x'\n") is None


def test_list_state_and_not_found() -> None:
    out = (
        "Name                                        ID   Mem VCPUs      State   Time(s)\n"
        "one-5                                        3   512     1     ---s--      5.3\n"
    )
    assert tools.list_state(out, "one-5") == "---s--"
    assert tools.list_state(out, "one-6") is None
    assert tools.is_not_found("Error: Domain 'one-5' does not exist.")
    assert tools.is_not_found("one-5 is an invalid domain identifier (rc=-6)")
    assert not tools.is_not_found("sudo: a password is required")
