"""Reading ``xm info`` / ``xl info`` / ``xentop`` output (fixtures written in Xen 4.0/4.11 formats)."""

from __future__ import annotations

import pathlib

from one_im_xen import probe

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_xl_info_4_11() -> None:
    assert probe.info_attributes(fixture("xl-info-xen4.11.txt")) == {
        "TOTALCPU": 800,
        "CPUSPEED": 3392,
        "TOTALMEMORY": 32657 * 1024,
        "FREEMEMORY": 23011 * 1024,
        "USEDMEMORY": (32657 - 23011) * 1024,
    }


def test_xm_info_4_0_prefers_max_free_memory() -> None:
    assert probe.info_attributes(fixture("xm-info-xen4.0.txt")) == {
        "TOTALCPU": 400,
        "CPUSPEED": 2493,
        "TOTALMEMORY": 8191 * 1024,
        "FREEMEMORY": 6015 * 1024,
        "USEDMEMORY": (8191 - 6015) * 1024,
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
