"""Reading ``xentop -b`` output (batch mode), shared by the Xen VMM and IM drivers.

Batch output is one block per iteration: a column header line
(``NAME  STATE   CPU(sec) CPU(%) ...``), optionally preceded by xentop's
summary lines, then one line per domain. The first iteration's ``CPU(%)`` is
always 0 (no earlier sample), so only the **last** block is used, as 1.4's
``xen.rb`` did. ``no limit`` (dom0's MAXMEM) is read as one token
(``no_limit``). A domain being migrated is listed as ``migrating-<name>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER = re.compile(r"^\s*NAME\s+STATE\s")

COLUMNS: tuple[str, ...] = (
    "NAME",
    "STATE",
    "CPU(sec)",
    "CPU(%)",
    "MEM(k)",
    "MEM(%)",
    "MAXMEM(k)",
    "MAXMEM(%)",
    "VCPUS",
    "NETS",
    "NETTX(k)",
    "NETRX(k)",
)
"""The leading columns every xentop version prints, in order (used without a header)."""


@dataclass(frozen=True)
class Domain:
    """One domain line of xentop: ``name`` (without ``migrating-``) and its columns."""

    name: str
    migrating: bool
    columns: dict[str, str]

    def get(self, column: str, default: str = "") -> str:
        return self.columns.get(column, default)


def last_block(output: str) -> tuple[list[str], list[str]]:
    """The column names and the domain lines of the last iteration in ``output``."""
    header: list[str] = list(COLUMNS)
    lines: list[str] = []
    for raw in output.replace("no limit", "no_limit").splitlines():
        if _HEADER.match(raw):
            header, lines = raw.split(), []
        elif raw.strip():
            lines.append(raw)
    return header, lines


def domains(output: str) -> list[Domain]:
    """Every domain of the last iteration; lines that are not domain rows are skipped."""
    header, lines = last_block(output)
    found = []
    for line in lines:
        fields = line.split()
        if len(fields) < len(COLUMNS) or not re.fullmatch(r"[a-z-]+", fields[1]):
            continue  # a summary line ("Mem: ...") or a per-VCPU/network detail line
        name = fields[0]
        migrating = name.startswith("migrating-")
        columns = dict(zip(header, fields, strict=False))
        found.append(Domain(name.removeprefix("migrating-"), migrating, columns))
    return found


def find(output: str, name: str) -> Domain | None:
    """The last line of domain ``name`` (or ``migrating-<name>``), as 1.4's poll did."""
    match = None
    for domain in domains(output):
        if domain.name == name:
            match = domain
    return match


STATE_LETTERS = {"r": "a", "b": "a", "s": "a", "d": "a", "p": "p", "c": "e"}
"""xentop/xm state letters → poll STATE (1.4's ``one_vmm_xen.rb``)."""


def poll_state(state: str) -> str:
    """``--b---`` → ``a``: the state column without dashes; two letters or none give ``-``."""
    return STATE_LETTERS.get(state.replace("-", ""), "-")


def poll_info(domain: Domain) -> dict[str, str]:
    """The poll attributes of one domain: USEDMEMORY, USEDCPU, NETTX, NETRX (KB) and STATE."""
    info = {}
    for key, column in (
        ("USEDMEMORY", "MEM(k)"),
        ("USEDCPU", "CPU(%)"),
        ("NETTX", "NETTX(k)"),
        ("NETRX", "NETRX(k)"),
    ):
        value = domain.get(column)
        if value:
            info[key] = value
    info["STATE"] = poll_state(domain.get("STATE"))
    return info
