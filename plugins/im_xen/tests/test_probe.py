"""Reading ``xm info`` / ``xl info`` / ``xentop`` output (fixtures written in Xen 4.0/4.11 formats)."""

from __future__ import annotations

import pathlib

import pytest
from one_im_xen import probe

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.mark.parametrize(
    ("capture", "cpu", "speed", "total_mib", "free_mib"),
    [
        ("xl-info-xen4.11.txt", 800, 3392, 32657, 23011),
        # xm 4.0 prints both free_memory and max_free_memory: the latter counts
        ("xm-info-xen4.0.txt", 400, 2493, 8191, 6015),
    ],
)
def test_info_attributes(capture: str, cpu: int, speed: int, total_mib: int, free_mib: int) -> None:
    assert probe.info_attributes(fixture(capture)) == {
        "TOTALCPU": cpu,
        "CPUSPEED": speed,
        "TOTALMEMORY": total_mib * 1024,
        "FREEMEMORY": free_mib * 1024,
        "USEDMEMORY": (total_mib - free_mib) * 1024,
    }


def test_info_values_with_colons_keep_them() -> None:
    info = probe.parse_info(fixture("xl-info-xen4.11.txt"))
    assert info["xen_commandline"] == "placeholder dom0_mem=4096M,max:4096M no-real-mode edd=off"
    assert info["xen_changeset"] == ""


def test_xentop_sums_the_last_sample_dom0_included() -> None:
    assert probe.xentop_attributes(fixture("xentop-b-i2-xen4.11.txt")) == {
        "USEDCPU": round(12.7 + 3.4 + 0.0 + 25.1),
        "NETTX": 13 + 0 + 815,
        "NETRX": 36 + 3 + 4419,
    }
    assert probe.xentop_attributes(fixture("xentop-b-i2-xen3.4-dom0-nolimit.txt")) == {
        "USEDCPU": 31,
        "NETTX": 7604730,
        "NETRX": 17270990,
    }
    assert probe.xentop_attributes("") == {}


def test_host_script_output() -> None:
    assert probe.host_attributes(fixture("cpuinfo-host-script.txt")) == {
        "ARCH": "x86_64",
        "HOSTNAME": "node3",
        "MODELNAME": "Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz",
    }
    assert probe.host_attributes("aarch64\nnode\n") == {"ARCH": "aarch64", "HOSTNAME": "node"}


def test_combine_adds_freecpu_and_hypervisor() -> None:
    result = probe.combine(
        [
            probe.host_attributes(fixture("cpuinfo-host-script.txt")),
            probe.info_attributes(fixture("xl-info-xen4.11.txt")),
            probe.xentop_attributes(fixture("xentop-b-i2-xen4.11.txt")),
        ]
    )
    assert result["HYPERVISOR"] == "xen"
    assert result["FREECPU"] == 800 - 41
    assert set(result) == {
        "ARCH",
        "HOSTNAME",
        "MODELNAME",
        "HYPERVISOR",
        "TOTALCPU",
        "CPUSPEED",
        "TOTALMEMORY",
        "USEDMEMORY",
        "FREEMEMORY",
        "FREECPU",
        "USEDCPU",
        "NETTX",
        "NETRX",
    }
    assert probe.combine([]) == {}
    assert "FREECPU" not in probe.combine([probe.info_attributes(fixture("xm-info-xen4.0.txt"))])
