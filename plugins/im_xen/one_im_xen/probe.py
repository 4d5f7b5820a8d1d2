"""What the Xen host probes print, read into monitoring attributes (spec §6.2, 1.4's ``xen.rb``).

Three commands run on the host (see :mod:`one_im_xen.plugin`): a fixed
``sh`` script for ARCH, HOSTNAME and MODELNAME (1.4's ``architecture.sh``,
``name.sh``, ``cpu.sh``), ``xm info`` / ``xl info``, and ``xentop -b -i 2``.
"""

from __future__ import annotations

from one_vmm_xen import xentop

HOST_SCRIPT = "uname -m; uname -n; grep -m 1 '^model name' /proc/cpuinfo || true"
"""Prints the architecture, the node name and the first ``model name`` line of /proc/cpuinfo."""


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def host_attributes(output: str) -> dict[str, str | int | float]:
    """ARCH, HOSTNAME and MODELNAME from the output of :data:`HOST_SCRIPT`."""
    lines = [line.strip() for line in output.splitlines()]
    found: dict[str, str | int | float] = {}
    if len(lines) > 0 and lines[0]:
        found["ARCH"] = lines[0]
    if len(lines) > 1 and lines[1]:
        found["HOSTNAME"] = lines[1]
    for line in lines[2:]:
        key, sep, value = line.partition(":")
        if sep and key.strip() == "model name" and value.strip():
            found["MODELNAME"] = " ".join(value.split())
            break
    return found


def parse_info(output: str) -> dict[str, str]:
    """``xm info`` / ``xl info`` lines (``key   : value``) as a dict; the first ``:`` splits."""
    info: dict[str, str] = {}
    for line in output.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            info.setdefault(key.strip(), value.strip())
    return info


def info_attributes(output: str) -> dict[str, str | int | float]:
    """TOTALCPU, CPUSPEED, TOTALMEMORY, FREEMEMORY, USEDMEMORY (KB) from ``xm info``.

    ``TOTALCPU = nr_cpus × 100``, ``CPUSPEED = cpu_mhz`` (rounded: xl prints
    decimals), ``TOTALMEMORY = total_memory × 1024``, ``FREEMEMORY =
    max_free_memory`` (else ``free_memory``) ``× 1024``, and USEDMEMORY the
    difference, as 1.4's ``xen.rb``.
    """
    info = parse_info(output)
    found: dict[str, str | int | float] = {}
    cpus = _number(info.get("nr_cpus", ""))
    if cpus is not None:
        found["TOTALCPU"] = round(cpus * 100)
    mhz = _number(info.get("cpu_mhz", ""))
    if mhz is not None:
        found["CPUSPEED"] = round(mhz)
    total = _number(info.get("total_memory", ""))
    free = _number(info.get("max_free_memory", "")) if "max_free_memory" in info else None
    if free is None:
        free = _number(info.get("free_memory", ""))
    if total is not None:
        found["TOTALMEMORY"] = round(total * 1024)
    if free is not None:
        found["FREEMEMORY"] = round(free * 1024)
    if total is not None and free is not None:
        found["USEDMEMORY"] = round(total * 1024) - round(free * 1024)
    return found


def xentop_attributes(output: str) -> dict[str, str | int | float]:
    """USEDCPU (sum of ``CPU(%)``, Domain-0 included) and NETTX/NETRX (sums, KB)."""
    domains = xentop.domains(output)
    if not domains:
        return {}
    sums = {"USEDCPU": 0.0, "NETTX": 0.0, "NETRX": 0.0}
    for domain in domains:
        for key, column in (("USEDCPU", "CPU(%)"), ("NETTX", "NETTX(k)"), ("NETRX", "NETRX(k)")):
            value = _number(domain.get(column))
            if value is not None:
                sums[key] += value
    return {key: round(value) for key, value in sums.items()}


def combine(parts: list[dict[str, str | int | float]]) -> dict[str, str | int | float]:
    """The attributes of every probe, plus ``HYPERVISOR=xen`` and ``FREECPU = TOTALCPU − USEDCPU``."""
    result: dict[str, str | int | float] = {}
    for part in parts:
        result.update(part)
    if not result:
        return result
    if "TOTALCPU" in result or "USEDCPU" in result:
        result["HYPERVISOR"] = "xen"
    total, used = result.get("TOTALCPU"), result.get("USEDCPU")
    if isinstance(total, int) and isinstance(used, int):
        result["FREECPU"] = total - used
    return result
