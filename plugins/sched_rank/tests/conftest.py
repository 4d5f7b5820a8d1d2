"""Fixtures: the 1.4 wire captures (recorded from the real 1.4 oned) copied into tests/wire/,
and the log lines 1.4's mm_sched writes for one cycle."""

from __future__ import annotations

import xmlrpc.client
from collections.abc import Callable
from pathlib import Path

import pytest

WIRE = Path(__file__).parent / "wire"


def response(stem: str) -> list:
    """The decoded XML-RPC response array of a capture."""
    params, _ = xmlrpc.client.loads((WIRE / f"{stem}.response.xml").read_text())
    return params[0]


def body(stem: str) -> str:
    """Element 1 (the XML document) of a successful capture."""
    value = response(stem)
    assert value[0] is True
    return value[1]


@pytest.fixture()
def wire() -> Callable[[str], str]:
    """``wire(stem)``: the XML document a 1.4 capture returned."""
    return body


@pytest.fixture()
def wire_response() -> Callable[[str], list]:
    """``wire_response(stem)``: the whole response array of a 1.4 capture."""
    return response


LogLine = tuple[str, str, str]
"""``(module, level, message)`` of a scheduler log line."""


def cycle_lines(hosts: str, pending: str, ranking: str) -> list[LogLine]:
    """What 1.4's mm_sched logs in a cycle: the enabled host ids, the pending VM ids
    (both space-separated) and the ``Select hosts`` block with each VM's ``ranking``."""
    return [
        ("HOST", "D", f"Discovered Hosts (enabled): {hosts}"),
        ("VM", "D", f"Pending virtual machines : {pending}"),
        ("SCHED", "I", "Select hosts\n\tPRI\tHID\n\t-------------------\n" + ranking),
    ]


@pytest.fixture()
def logged_cycle() -> Callable[[str, str, str], list[LogLine]]:
    """``logged_cycle(hosts, pending, ranking)``: the lines of :func:`cycle_lines`."""
    return cycle_lines
