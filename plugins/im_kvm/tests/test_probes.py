"""Unit tests of the probe bundle and of the parsing of probe output."""

from __future__ import annotations

import subprocess

import pytest
from one_im_kvm import plugin, probes

from one_core.context import DriverContext


def test_parse_kvm_reply_of_the_spec() -> None:
    text = (
        'ARCH=x86_64\nHOSTNAME=node1\nMODELNAME="Intel(R) Core(TM)2 CPU"\n'
        "HYPERVISOR=kvm\nTOTALCPU=200\nCPUSPEED=2000\nTOTALMEMORY=2052832\n"
        "USEDMEMORY=1024000\nFREEMEMORY=1500000\nFREECPU=187.5\nUSEDCPU=12.5\n"
        "NETRX=123\nNETTX=456\n"
    )
    assert probes.parse(text) == {
        "ARCH": "x86_64",
        "HOSTNAME": "node1",
        "MODELNAME": "Intel(R) Core(TM)2 CPU",
        "HYPERVISOR": "kvm",
        "TOTALCPU": 200,
        "CPUSPEED": 2000,
        "TOTALMEMORY": 2052832,
        "USEDMEMORY": 1024000,
        "FREEMEMORY": 1500000,
        "FREECPU": 187.5,
        "USEDCPU": 12.5,
        "NETRX": 123,
        "NETTX": 456,
    }


def test_parse_edge_cases() -> None:
    text = (
        "  \n# not a pair\nnoequals\n=novalue\n  spaced = 7 \n"
        'lower=x\nMODEL="a, b=c"\nLATER=1\nLATER=2\nNEG=-3\nVER=1.2.3\nEMPTY=\n'
    )
    assert probes.parse(text) == {
        "SPACED": 7,
        "LOWER": "x",
        "MODEL": "a, b=c",
        "LATER": 2,
        "NEG": -3,
        "VER": "1.2.3",
        "EMPTY": "",
    }


def test_bundle_checksum_covers_every_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    first = probes.bundle()
    assert set(first.scripts) == set(probes.PROBES)
    assert all(s.startswith(b"#!/bin/sh") for s in first.scripts.values())
    assert probes.bundle().checksum == first.checksum
    monkeypatch.setattr(probes, "PROBES", (*probes.PROBES[:-1],))
    assert probes.bundle().checksum != first.checksum


@pytest.mark.parametrize("name", probes.PROBES)
def test_probes_are_posix_sh(name: str) -> None:
    """Every probe parses with dash (Debian's /bin/sh) when available, else sh."""
    path = probes.bundle().scripts[name]
    shell = (
        "dash" if subprocess.run(["which", "dash"], capture_output=True).returncode == 0 else "sh"
    )
    subprocess.run([shell, "-n", "/dev/stdin"], input=path, check=True)


def ctx(**config: str) -> DriverContext:
    return DriverContext(role="im", name="im_kvm", config=config)


def test_remote_dir_settings() -> None:
    assert plugin.remote_dir(ctx()) == "/var/tmp/one/im/kvm"
    assert plugin.remote_dir(ctx(remote_dir="/opt/p/")) == "/opt/p"
    assert plugin.remote_dir(ctx(IM_REMOTE_DIR="/x")) == "/x"
    assert plugin.remote_dir(ctx(ARGUMENTS="-r /srv/probes im_kvm/im_kvm.conf")) == "/srv/probes"
    assert plugin.remote_dir(ctx(ARGUMENTS="im_kvm/im_kvm.conf")) == "/var/tmp/one/im/kvm"


def test_probe_arguments() -> None:
    assert plugin.probe_arguments(ctx()) == ["1.0"]
    assert plugin.probe_arguments(ctx(CPU_SAMPLE="0", NETIF="eth0, eth1")) == [
        "0.0",
        "eth0",
        "eth1",
    ]
    assert plugin.probe_arguments(ctx(CPU_SAMPLE="x; rm")) == ["1"]


def test_split_answers() -> None:
    out = "A=1\nB=2\n\n@@ONE-PROBE-EXIT 0 one.sh\n\n@@ONE-PROBE-EXIT 3 two.sh\nC=3\n"
    assert plugin.split_answers(out) == [("one.sh", 0, "A=1\nB=2\n"), ("two.sh", 3, "")]


def test_archive_holds_the_bundle_checksum_last() -> None:
    import io
    import tarfile

    bundle = probes.bundle()
    with tarfile.open(fileobj=io.BytesIO(plugin.archive(bundle))) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == [*probes.PROBES, probes.CHECKSUM_FILE]
        assert all(m.mode == 0o755 for m in members[:-1])
        assert tar.extractfile(members[-1]).read() == bundle.checksum.encode() + b"\n"


def test_entry_point_is_installed() -> None:
    from one_core.drivers import installed

    assert any(ep.name == "kvm" and ep.value == "one_im_kvm.plugin" for ep in installed("im"))
